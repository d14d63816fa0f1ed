"""Staff roles (contract v1.1): the groups, and what each may do in the core banking app (api.roles)."""

from django.db import migrations

from api import roles


def forwards(apps, schema_editor):
    roles.grant(apps, "api")


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=roles.ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0006_audit_approvals_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
