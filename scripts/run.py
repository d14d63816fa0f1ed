#!/usr/bin/env python3
"""Install everything and run Nexus Bank on http://127.0.0.1:8000 with demo data.

    python3 scripts/run.py            # embedded PostgreSQL (or DATABASE_URL if set)
    python3 scripts/run.py 0.0.0.0:8000

One uvicorn process serves the whole ASGI application (nexus.asgi): the REST API, the admin and the
notification WebSocket (ws://127.0.0.1:8000/ws/notifications/?token=<access>). A job worker
(``manage.py run_worker``) runs beside it: notifications, business figures, risk screening and the
scheduled tasks. Both stop together.
"""

import os
import signal
import subprocess
import sys

from _bootstrap import ROOT, ensure_venv, run


def main() -> None:
    address = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:8000"
    host, _, port = address.rpartition(":")
    python = ensure_venv()
    local = {"DJANGO_SETTINGS_MODULE": "nexus.settings.local"}
    # The system checks once (their warnings printed once), not again by each command below.
    run(python, "manage.py", "check", env=local)
    run(python, "manage.py", "migrate", "--no-input", "-v", "0", "--skip-checks", env=local)
    run(python, "manage.py", "seed_demo", "--skip-checks", env=local)
    print(f"\nSwagger UI: http://{address}/api/docs/   Admin: http://{address}/admin/   "
          f"WebSocket: ws://{address}/ws/notifications/?token=<access>\n", flush=True)
    worker = subprocess.Popen([str(python), "manage.py", "run_worker", "--skip-checks"], cwd=ROOT,
                              env={**os.environ, **local})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped by a signal too: the worker goes with it
    try:
        # No ASGI lifespan: the app has no startup or shutdown hooks (uvicorn's "lifespan unsupported"
        # line read like an error).
        run(python, "-m", "uvicorn", "nexus.asgi:application", "--host", host or "127.0.0.1",
            "--port", port or "8000", "--lifespan", "off", env=local)
    finally:
        worker.terminate()
        worker.wait(timeout=30)


if __name__ == "__main__":
    main()
