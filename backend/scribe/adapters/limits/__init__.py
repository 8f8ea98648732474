"""Rate limits with the `limits` library: in memory for one process, Redis for several."""
