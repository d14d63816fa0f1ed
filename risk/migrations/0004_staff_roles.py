"""Staff roles (contract v1.1): what each role may do with incidents, login events, the blacklist and
django-axes lockouts (api.roles)."""

from django.db import migrations

from api import roles


def forwards(apps, schema_editor):
    roles.grant(apps, "risk")
    roles.grant(apps, "axes")


def backwards(apps, schema_editor):
    roles.revoke(apps, "risk")
    roles.revoke(apps, "axes")


class Migration(migrations.Migration):
    dependencies = [
        ("risk", "0003_ratelimitwindow_unlogged"),
        ("api", "0007_staff_roles"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
