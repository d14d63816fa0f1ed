#!/usr/bin/env python3
"""Install everything, lint, and run the whole test suite on real PostgreSQL.

    python3 scripts/test.py              # ruff + pytest (embedded PostgreSQL unless DATABASE_URL)
    python3 scripts/test.py tests/api    # extra arguments go to pytest
"""

import sys

from _bootstrap import ensure_venv, run


def main() -> None:
    python = ensure_venv()
    run(python, "-m", "ruff", "check", ".")
    run(python, "-m", "pytest", *(sys.argv[1:] or ["-q"]))


if __name__ == "__main__":
    main()
