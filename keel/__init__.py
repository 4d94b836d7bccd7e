"""Keel: an internal developer platform as code (Proton-style templates, written in CDK)."""

__version__ = "0.1.0"
