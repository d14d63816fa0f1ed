# Validators only: no schema change.

import api.bounds
import django.utils.timezone
from decimal import Decimal
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0008_user_token_version'),
    ]

    operations = [
        migrations.AlterField(
            model_name='account',
            name='daily_limit',
            field=models.DecimalField(decimal_places=3, default=Decimal('10000'), max_digits=20, validators=[api.bounds.validate_amount]),
        ),
        migrations.AlterField(
            model_name='fxrate',
            name='effective_from',
            field=models.DateTimeField(default=django.utils.timezone.now, validators=[api.bounds.validate_date]),
        ),
    ]
