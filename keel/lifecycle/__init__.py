"""Template lifecycle: compatibility checks, outdated pins, upgrades, Proton bundles and import, docs."""
