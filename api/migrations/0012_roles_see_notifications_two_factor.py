"""Contract v1.2: every staff role that looks customers up also sees their notifications and 2FA status."""

from django.db import migrations

from api import roles


def forwards(apps, schema_editor):
    roles.grant(apps, "api")


class Migration(migrations.Migration):
    dependencies = [("api", "0011_two_factor_notifications_blocking")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
