#!/usr/bin/env python3
"""The whole Nexus Bank cluster on this one machine, on loopback ports, in a temporary directory.

    python3 scripts/cluster.py up [--nodes 2] [--no-pgbouncer]   # build and start everything
    python3 scripts/cluster.py status                            # what runs where
    python3 scripts/cluster.py load [--scenario transfers]       # the benchmark's load through HAProxy
    python3 scripts/cluster.py failover                          # SIGKILL the primary, promote, rejoin
    python3 scripts/cluster.py down                              # stop every process by its PID

N app nodes (production settings, throwaway secrets), each gunicorn for the REST API and uvicorn for
the notification WebSocket (/ws/, channel layer on Redis), behind HAProxy; PostgreSQL primary and
synchronous standby run by Patroni with etcd; PgBouncer (transaction pooling) in front of the
primary; Redis for shared state. Missing Debian packages are installed with apt-get when run as
root; Patroni gets a virtualenv of its own. See docs/SCALING.md.
"""

import sys

from _bootstrap import ensure_venv, run


def main() -> None:
    python = ensure_venv()
    run(python, "-m", "cluster", *sys.argv[1:])


if __name__ == "__main__":
    main()
