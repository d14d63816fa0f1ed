"""One FX rate per currency and moment: a second rate entered for the same time (backdated or not) is refused.

Rates entered twice before this migration are kept: the later entry of a pair moves on by a microsecond per
earlier twin, so it stays the one in effect (it was the last word) and the constraint can hold.
"""

import datetime as dt

from django.db import migrations, models


def separate_twins(apps, schema_editor):
    FxRate = apps.get_model("api", "FxRate")
    previous, shift = None, 0
    for rate in FxRate.objects.order_by("currency", "effective_from", "id"):
        key = (rate.currency, rate.effective_from)
        shift = shift + 1 if key == previous else 0
        previous = key
        if shift:
            FxRate.objects.filter(pk=rate.pk).update(effective_from=rate.effective_from + dt.timedelta(microseconds=shift))


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0022_standing_orders'),
    ]

    operations = [
        migrations.RunPython(separate_twins, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='fxrate',
            constraint=models.UniqueConstraint(fields=('currency', 'effective_from'), name='fxrate_one_per_moment', violation_error_message='A rate for this currency already takes effect at this moment: choose another time (history is kept; a published rate is never replaced).'),
        ),
        # The constraint's index serves the history's reads.
        migrations.RemoveIndex(
            model_name='fxrate',
            name='fxrate_currency_effective',
        ),
    ]
