"""scheduled_lambda_svc template."""
