"""Keel service template (see template.yaml)."""
