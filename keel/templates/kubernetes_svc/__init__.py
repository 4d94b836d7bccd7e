"""kubernetes-svc template."""
