"""The job queue's table turns over every row within milliseconds (inserted with a movement, deleted by
the worker): vacuumed after every thousand dead rows rather than a fifth of the table, so the worker's
look for waiting jobs never walks thousands of dead index entries (nexus.queries.TAKE_JOBS). That look
goes through the primary key (oldest first): the partial index on (available_at, id) was never used,
and cost every posting an index entry."""

from django.db import migrations

SETTINGS = ("autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, "
            "autovacuum_vacuum_cost_delay = 0, autovacuum_analyze_scale_factor = 0, "
            "autovacuum_analyze_threshold = 1000")


class Migration(migrations.Migration):
    dependencies = [("nexus", "0002_job_queue")]

    operations = [
        migrations.RemoveIndex(model_name="job", name="job_waiting"),
        migrations.RunSQL(
            f"ALTER TABLE nexus_job SET ({SETTINGS})",
            "ALTER TABLE nexus_job RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold, "
            "autovacuum_vacuum_cost_delay, autovacuum_analyze_scale_factor, autovacuum_analyze_threshold)",
        ),
    ]
