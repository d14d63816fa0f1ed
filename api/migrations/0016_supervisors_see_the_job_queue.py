"""Contract v1.3: Supervisors see the job queue and retry failed jobs (nexus.Job, the admin's queue page)."""

from django.db import migrations

from api import roles


def forwards(apps, schema_editor):
    roles.grant(apps, "nexus")


class Migration(migrations.Migration):
    dependencies = [("api", "0015_login_ticket_version"), ("nexus", "0002_job_queue")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
