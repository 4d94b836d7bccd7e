"""vpc-env: the network every other environment template builds on."""
