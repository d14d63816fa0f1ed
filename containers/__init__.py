"""The production shape (docker-compose.yml) in containers on this machine, for tests/compose.

No container registry is reachable here, so every image is built locally: a base image from Debian's
packages and PyPI (``base``), the app and the services from the repository's Dockerfiles on it,
switched by docker-compose.local-images.yml. A private Docker daemon (``daemon``) runs them and is
stopped by its pid at the end; ``stack`` drives docker-compose.
"""
