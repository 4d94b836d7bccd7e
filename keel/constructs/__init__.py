"""L3 constructs for the whitepaper patterns. Each takes typed, keyword-only inputs and reads nothing else."""
