"""Token revocation: a per-user version copied into every token, which the database never lowers.

A full ``save()`` of a user read before a revocation (an admin form, a profile update) would
otherwise write the old version back and revive the revoked tokens.
"""

from django.db import migrations, models

MONOTONIC_SQL = """
CREATE OR REPLACE FUNCTION api_user_token_version_monotonic() RETURNS trigger AS $$
BEGIN
    NEW.token_version := OLD.token_version;
    RETURN NEW;
END $$ LANGUAGE plpgsql;

CREATE TRIGGER api_user_token_version_monotonic
    BEFORE UPDATE ON api_user
    FOR EACH ROW WHEN (NEW.token_version < OLD.token_version)
    EXECUTE FUNCTION api_user_token_version_monotonic();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS api_user_token_version_monotonic ON api_user;
DROP FUNCTION IF EXISTS api_user_token_version_monotonic();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0007_staff_roles'),
    ]

    operations = [
        migrations.AddField(
            model_name='user',
            name='token_version',
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunSQL(MONOTONIC_SQL, DROP_SQL),
    ]
