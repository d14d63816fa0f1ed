"""Publishing an FX rate moves the reference version in the same transaction (nexus.refcache): every
request that starts after the rate was answered converts at it, on every worker and node."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("api", "0020_fx_rate_message"), ("nexus", "0004_reference_version")]

    operations = [
        migrations.RunSQL(
            "CREATE TRIGGER fxrate_reference_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON api_fxrate "
            "FOR EACH STATEMENT EXECUTE FUNCTION nexus_reference_changed()",
            "DROP TRIGGER fxrate_reference_changed ON api_fxrate",
        ),
    ]
