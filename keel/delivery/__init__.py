"""Delivery: offline diff of two cloud assemblies, the destructive-change gate, PR summaries.

Everything in this package is CDK-free: it reads synthesized templates, never builds them in-process.
"""
