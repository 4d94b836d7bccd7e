"""The contract between environments and services, below every other layer and free of CDK.

It holds what both sides agree on: the template registry's types and the Proton input schema format
(`registry`, `schema`), how stacks, paths and parameters are named (`naming`), the one shape of an input
problem (`problems`), the schedule grammar (`schedule`), what an environment's spec switches on for its
services (`offers`) and what an environment's stack hands them (`outputs`: CDK types, for annotations only).
The spec layer, the templates and the stacks depend on it; it depends on none of them.
"""
