#!/usr/bin/env python3
"""Install everything and run the benchmark (bench/README.md): gunicorn + embedded PostgreSQL on loopback.

    python3 scripts/bench.py --quick      # smoke run, well under a minute
    python3 scripts/bench.py              # full run: 4 scenarios x 30 s + raw-SQL baseline
    python3 scripts/bench.py --help       # every option goes to python -m bench
    python3 scripts/bench.py instructions TREE_A TREE_B   # instructions per request (bench/instructions.py)
"""

import sys

from _bootstrap import ensure_valgrind, ensure_venv, run


def main() -> None:
    python = ensure_venv()
    if sys.argv[1:2] == ["instructions"]:
        reason = ensure_valgrind()
        if reason:
            sys.exit(f"Cannot count instructions: {reason}")
        run(python, "-m", "bench.instructions", *sys.argv[2:])
        return
    run(python, "-m", "bench", *sys.argv[1:])


if __name__ == "__main__":
    main()
