"""Staff roles (contract v1.1): who reads the business figures (api.roles)."""

from django.db import migrations

from api import roles


def forwards(apps, schema_editor):
    roles.grant(apps, "business")


def backwards(apps, schema_editor):
    roles.revoke(apps, "business")


class Migration(migrations.Migration):
    dependencies = [("business", "0001_initial"), ("api", "0007_staff_roles")]

    operations = [migrations.RunPython(forwards, backwards)]
