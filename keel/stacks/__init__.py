"""Stacks compose constructs; the app builder wires one stack per environment and per service instance."""
