"""Nexus Bank benchmark: ``python -m bench [--quick]``. See bench/README.md."""
