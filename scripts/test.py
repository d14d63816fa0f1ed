#!/usr/bin/env python3
"""Install everything (Chromium for the browser tests, Docker for the compose tests), lint, and run the whole
test suite on real PostgreSQL.

    python3 scripts/test.py              # ruff, import-linter, pytest (embedded PostgreSQL unless DATABASE_URL)
    python3 scripts/test.py tests/api    # extra arguments go to pytest
"""

import sys

from _bootstrap import ensure_browser, ensure_docker, ensure_venv, run


def main() -> None:
    python = ensure_venv()
    browser = ensure_browser()  # the browser tests (tests/browser) drive Debian's headless Chromium
    for reason in browser.values():
        print(f"The browser tests will skip: {reason}", flush=True)
    # The compose tests (tests/compose) run docker-compose.yml on a private dockerd: Debian's docker.io,
    # docker-compose and debootstrap (the images are built here, no registry is reachable).
    docker = ensure_docker()
    for reason in docker.values():
        print(f"The compose tests will skip: {reason}", flush=True)
    run(python, "-m", "ruff", "check", ".")
    # The layering of docs/ARCHITECTURE.md (.importlinter): a forbidden import fails the run.
    run(python, str(python.parent / "lint-imports"), "--no-cache")
    run(python, "-m", "pytest", *(sys.argv[1:] or ["-q"]), env={**browser, **docker})


if __name__ == "__main__":
    main()
