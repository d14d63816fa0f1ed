#!/usr/bin/env python3
"""Install everything (Chromium too, for the browser tests), lint, and run the whole test suite on real PostgreSQL.

    python3 scripts/test.py              # ruff, import-linter, pytest (embedded PostgreSQL unless DATABASE_URL)
    python3 scripts/test.py tests/api    # extra arguments go to pytest
"""

import sys

from _bootstrap import ensure_browser, ensure_venv, run


def main() -> None:
    python = ensure_venv()
    browser = ensure_browser()  # the browser tests (tests/browser) drive Debian's headless Chromium
    for reason in browser.values():
        print(f"The browser tests will skip: {reason}", flush=True)
    run(python, "-m", "ruff", "check", ".")
    # The layering of docs/ARCHITECTURE.md (.importlinter): a forbidden import fails the run.
    run(python, str(python.parent / "lint-imports"), "--no-cache")
    run(python, "-m", "pytest", *(sys.argv[1:] or ["-q"]), env=browser)


if __name__ == "__main__":
    main()
