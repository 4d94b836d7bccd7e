"""lambda_api_svc template."""
