"""Template lifecycle: compatibility checks, outdated pins, upgrades, Proton and Copilot import, docs."""
