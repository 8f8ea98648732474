"""Metrics adapters (Prometheus)."""
