"""Adding or removing a blacklist entry moves the reference version in the same transaction
(nexus.refcache): every request that starts after the change was answered is checked against it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("risk", "0008_ip_labels"), ("nexus", "0004_reference_version")]

    operations = [
        migrations.RunSQL(
            "CREATE TRIGGER blockedip_reference_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON risk_blockedip "
            "FOR EACH STATEMENT EXECUTE FUNCTION nexus_reference_changed()",
            "DROP TRIGGER blockedip_reference_changed ON risk_blockedip",
        ),
    ]
