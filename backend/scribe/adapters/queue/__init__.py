"""Job queues and event streams: in this process (one machine); Celery and Redis may follow."""
