"""Throttle counters are ephemeral: an UNLOGGED table writes no WAL for them.

Every API request upserts one row here. On an unlogged table that write produces no WAL, so its
commit does not wait for a WAL flush either. After a PostgreSQL crash the table comes back empty:
every client starts a fresh window, which is all a rate limit can lose.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("risk", "0002_blockedip_incident_loginevent")]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE risk_ratelimitwindow SET UNLOGGED",
            reverse_sql="ALTER TABLE risk_ratelimitwindow SET LOGGED",
        ),
    ]
