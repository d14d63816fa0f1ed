"""The environment shared by the driver and the gunicorn it starts: production settings, minus TLS.

Set before Django is imported, so the driver (seeding, token minting, invariant checks) and the
server see the same database and the same JWT signing key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BENCH_DB = "nexus_bench"
# Throttles stay in the request path (each authenticated request still upserts its counter row),
# but at rates no benchmark client reaches: the benchmark measures the bank, not the limiter.
THROTTLES = {"THROTTLE_USER": "100000000/min", "THROTTLE_ANON": "100000000/min",
             "THROTTLE_LOGIN": "100000000/min"}


def prepare(*, log_level: str | None = None) -> dict[str, str]:
    """Fill ``os.environ`` for production settings on loopback HTTP; return what was set."""
    chosen = {
        "DJANGO_SETTINGS_MODULE": "nexus.settings.production",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(48),
        "JWT_SIGNING_KEY": os.environ.get("JWT_SIGNING_KEY") or secrets.token_urlsafe(48),
        "CARD_FINGERPRINT_KEY": os.environ.get("CARD_FINGERPRINT_KEY") or secrets.token_urlsafe(48),
        "TOTP_ENCRYPTION_KEY": os.environ.get("TOTP_ENCRYPTION_KEY") or secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "False",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        **THROTTLES,
        # v1.3's daily total of payments without a code (2000 JOD) would ask the bench's customers, who
        # have no authenticator, for a code within seconds: raised, so the total is still read and
        # counted on every payment (its cost is measured) but never reached.
        "STEP_UP_DAILY_TOTAL": "1000000000000",
    }
    if not os.environ.get("DATABASE_URL"):
        # Production settings never start an embedded server: this process starts it (and keeps it up
        # while the benchmark runs) and hands its address to the settings and to gunicorn.
        chosen["EMBEDDED_PG_DB"] = os.environ.get("EMBEDDED_PG_DB", BENCH_DB)
        chosen["DATABASE_URL"] = _embedded_url(chosen["EMBEDDED_PG_DB"])
        chosen["BENCH_EMBEDDED"] = "1"
    if log_level:
        chosen["LOG_LEVEL"] = log_level
    os.environ.update(chosen)
    secret = {"DJANGO_SECRET_KEY", "JWT_SIGNING_KEY", "CARD_FINGERPRINT_KEY", "TOTP_ENCRYPTION_KEY"}
    return {k: ("<random>" if k in secret else v) for k, v in chosen.items()}


def _embedded_url(name: str) -> str:
    import sys

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["EMBEDDED_PG_DB"] = name
    from nexus import embedded_pg

    config = embedded_pg.database_config()
    # A socket directory goes in the path (django-environ's form): postgres://user@:port//dir/name.
    return f"postgres://{config['USER']}@:{config['PORT']}/{config['HOST']}/{name}"


def setup_django() -> None:
    """Import settings (which starts or joins the embedded PostgreSQL and keeps it up while we run)."""
    import sys

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def reset_database() -> bool:
    """Drop and recreate the benchmark's own embedded database, so every run starts from the same
    size (a ledger that grows run after run outgrows shared_buffers and slows the whole-database
    checks). Only the default benchmark database on the embedded server, never a DATABASE_URL or
    any other name. Returns whether it reset. Call after ``setup_django`` and before any query."""
    if not os.environ.get("BENCH_EMBEDDED") or os.environ.get("EMBEDDED_PG_DB") != BENCH_DB:
        return False
    import psycopg
    from django.db import connection

    config = connection.settings_dict
    admin = psycopg.connect(dbname="postgres", user=config["USER"], host=config["HOST"], port=config["PORT"])
    try:
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
            cursor.execute(f"CREATE DATABASE \"{BENCH_DB}\" TEMPLATE template0 ENCODING 'UTF8'")
    finally:
        admin.close()
    return True
