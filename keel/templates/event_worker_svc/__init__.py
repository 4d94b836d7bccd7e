"""event_worker_svc template."""
