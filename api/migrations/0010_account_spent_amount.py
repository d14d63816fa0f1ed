"""The daily-limit counter is the amount spent on ``spent_on`` (any day), not "today": renamed to say so."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("api", "0009_amount_and_date_bounds")]

    operations = [
        migrations.RemoveConstraint(model_name="account", name="account_spent_today_non_negative"),
        migrations.RenameField(model_name="account", old_name="spent_today", new_name="spent_amount"),
        migrations.AddConstraint(
            model_name="account",
            constraint=models.CheckConstraint(condition=models.Q(spent_amount__gte=0),
                                              name="account_spent_amount_non_negative"),
        ),
        # The database cache table of an earlier version: nothing uses Django's cache any more.
        migrations.RunSQL("DROP TABLE IF EXISTS nexus_cache", migrations.RunSQL.noop),
    ]
