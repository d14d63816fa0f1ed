"""A whole Nexus Bank cluster on one machine, on loopback ports: see scripts/cluster.py and docs/SCALING.md."""
