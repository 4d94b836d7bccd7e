"""The day-2 verbs (status, logs, exec, secret, param, history): plain functions over boto3 clients.

Every function takes a `Clients` (boto3 clients per region from one session), so tests hand in moto-backed
ones; the CLI builds them from the standard credential chain (profile, environment variables, SSO).
"""
