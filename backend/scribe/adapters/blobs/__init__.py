"""Blob stores for job audio and results: a directory on this machine (Redis or S3 may follow)."""
