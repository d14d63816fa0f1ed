#!/usr/bin/env python3
"""Install everything (Chromium for the browser tests, Docker for the compose tests), lint, and run the whole
test suite on real PostgreSQL.

    python3 scripts/test.py                  # ruff, import-linter, then every tier (embedded PostgreSQL unless DATABASE_URL)
    python3 scripts/test.py --in-process     # ruff, import-linter, the in-process tier only (the quick loop)
    python3 scripts/test.py tests/api        # extra arguments go to pytest, as they are

The tiers (tests/conftest.py, TIERS): the in-process tests and the server and browser tiers (gunicorn,
uvicorn and job workers as real processes, headless Chromium on a live server; each test on free ports)
run together, one pytest-xdist worker per core, a test module at a time on each, each worker on a test
database of its own; then the cluster and the containers one at a time, since the cluster tests measure
how long a failover keeps a client waiting. ``--in-process`` runs the in-process tier alone.
"""

import os
import sys

from _bootstrap import ensure_browser, ensure_docker, ensure_venv, run

OUT_OF_PROCESS = "server or browser or cluster or compose"
ONE_AT_A_TIME = "cluster or compose"


def main() -> None:
    python = ensure_venv()
    args = sys.argv[1:]
    in_process_only = args == ["--in-process"]
    browser = {} if in_process_only else ensure_browser()  # tests/browser drive Debian's headless Chromium
    for reason in browser.values():
        print(f"The browser tests will skip: {reason}", flush=True)
    # The compose tests (tests/compose) run docker-compose.yml on a private dockerd: Debian's docker.io,
    # docker-compose and debootstrap (the images are built here, no registry is reachable).
    docker = {} if in_process_only else ensure_docker()
    for reason in docker.values():
        print(f"The compose tests will skip: {reason}", flush=True)
    run(python, "-m", "ruff", "check", ".")
    # The layering of docs/ARCHITECTURE.md (.importlinter): a forbidden import fails the run.
    run(python, str(python.parent / "lint-imports"), "--no-cache")
    if args and not in_process_only:
        run(python, "-m", "pytest", *args, env={**browser, **docker})
        return
    workers = str(min(os.cpu_count() or 1, 4))
    if in_process_only:
        run(python, "-m", "pytest", "-q", "-m", f"not ({OUT_OF_PROCESS})", "-n", workers, "--dist", "loadfile")
        return
    run(python, "-m", "pytest", "-q", "-m", f"not ({ONE_AT_A_TIME})", "-n", workers, "--dist", "loadfile",
        env=browser)
    run(python, "-m", "pytest", "-q", "-m", ONE_AT_A_TIME, env=docker)


if __name__ == "__main__":
    main()
