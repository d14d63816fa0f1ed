#!/usr/bin/env python3
"""Install everything and run Nexus Bank on http://127.0.0.1:8000 with demo data.

    python3 scripts/run.py            # embedded PostgreSQL (or DATABASE_URL if set)
    python3 scripts/run.py 0.0.0.0:8000
"""

import sys

from _bootstrap import ensure_venv, run


def main() -> None:
    address = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8000"
    python = ensure_venv()
    run(python, "manage.py", "migrate", "--no-input", "-v", "0")
    run(python, "manage.py", "seed_demo")
    print(f"\nSwagger UI: http://{address}/api/docs/   Admin: http://{address}/admin/\n", flush=True)
    run(python, "manage.py", "runserver", "--noreload", address)


if __name__ == "__main__":
    main()
