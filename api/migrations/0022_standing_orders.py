"""Contract v1.3: standing orders and their runs; staff who look customers up see them, and tellers,
supervisors and risk analysts may cancel one (api.roles)."""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from api import roles


def grant_roles(apps, schema_editor):
    roles.grant_exactly(apps, "api")


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0021_fx_rates_move_the_reference_version'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditrecord',
            name='action',
            field=models.CharField(choices=[('deposit', 'Deposit'), ('reversal', 'Reversal'), ('account_update', 'Account update'), ('fx_rate_change', 'FX rate change'), ('incident_update', 'Incident update'), ('blacklist_add', 'Blacklist add'), ('blacklist_remove', 'Blacklist remove'), ('user_update', 'User update'), ('approval_request', 'Approval request'), ('approval_approve', 'Approval approved'), ('approval_reject', 'Approval rejected'), ('approval_cancel', 'Approval cancelled'), ('role_change', 'Role change'), ('password_reset', 'Password reset'), ('lockout_unlock', 'Lockout unlock'), ('twofa_reset', 'Two-factor reset'), ('standing_order_cancel', 'Standing order cancelled')], max_length=30),
        ),
        migrations.AlterField(
            model_name='notification',
            name='kind',
            field=models.CharField(choices=[('transfer_in', 'Money received'), ('deposit', 'Deposit'), ('transfer_out', 'Money sent'), ('bill_paid', 'Bill paid'), ('reversal', 'Reversal'), ('security_alert', 'Security alert'), ('standing_order_refused', 'Standing order refused')], max_length=30),
        ),
        migrations.CreateModel(
            name='StandingOrder',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('amount', models.DecimalField(decimal_places=3, max_digits=20)),
                ('currency', models.CharField(choices=[('JOD', 'Jordanian dinar'), ('USD', 'US dollar'), ('EUR', 'Euro')], help_text="The sender account's.", max_length=3)),
                ('description', models.CharField(blank=True, max_length=255)),
                ('interval', models.CharField(choices=[('weekly', 'Weekly'), ('monthly', 'Monthly')], max_length=10)),
                ('first_date', models.DateField()),
                ('end_date', models.DateField(blank=True, null=True)),
                ('next_run_on', models.DateField(blank=True, null=True)),
                ('status', models.CharField(choices=[('active', 'Active'), ('cancelled', 'Cancelled'), ('finished', 'Finished')], default='active', max_length=10)),
                ('uncoded_total', models.DecimalField(blank=True, decimal_places=3, editable=False, max_digits=24, null=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('cancelled_at', models.DateTimeField(blank=True, null=True)),
                ('cancel_reason', models.CharField(blank=True, max_length=255)),
                ('cancelled_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('owner', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='standing_orders', to=settings.AUTH_USER_MODEL)),
                ('receiver_account', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='api.account')),
                ('sender_account', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='api.account')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
                'permissions': [('cancel_standingorder', "Can cancel a customer's standing order")],
            },
        ),
        migrations.CreateModel(
            name='StandingOrderRun',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('run_on', models.DateField()),
                ('status', models.CharField(choices=[('succeeded', 'Succeeded'), ('refused', 'Refused')], max_length=10)),
                ('error_code', models.CharField(blank=True, max_length=40, null=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('order', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='runs', to='api.standingorder')),
                ('transaction', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='standing_order_run', to='api.transaction')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.AddIndex(
            model_name='standingorder',
            index=models.Index(fields=['owner', '-created_at', '-id'], name='standingorder_owner_created'),
        ),
        migrations.AddIndex(
            model_name='standingorder',
            index=models.Index(condition=models.Q(('status', 'active')), fields=['next_run_on'], name='standingorder_due'),
        ),
        migrations.AddConstraint(
            model_name='standingorder',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gt', 0)), name='standingorder_amount_positive'),
        ),
        migrations.AddConstraint(
            model_name='standingorder',
            constraint=models.CheckConstraint(condition=models.Q(('sender_account', models.F('receiver_account')), _negated=True), name='standingorder_distinct_accounts'),
        ),
        migrations.AddConstraint(
            model_name='standingorder',
            constraint=models.CheckConstraint(condition=models.Q(('end_date__isnull', True), ('end_date__gte', models.F('first_date')), _connector='OR'), name='standingorder_end_after_first'),
        ),
        migrations.AddConstraint(
            model_name='standingorder',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('next_run_on__isnull', False), ('status', 'active')), models.Q(('status', 'active'), _negated=True), _connector='OR'), name='standingorder_active_has_next_run'),
        ),
        migrations.AddIndex(
            model_name='standingorderrun',
            index=models.Index(fields=['order', '-created_at', '-id'], name='standingorderrun_order_created'),
        ),
        migrations.AddConstraint(
            model_name='standingorderrun',
            constraint=models.UniqueConstraint(fields=('order', 'run_on'), name='standingorderrun_once_per_day'),
        ),
        migrations.AddConstraint(
            model_name='standingorderrun',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('error_code__isnull', True), ('status', 'succeeded'), ('transaction__isnull', False)), models.Q(('error_code__isnull', False), ('status', 'refused'), ('transaction__isnull', True)), _connector='OR'), name='standingorderrun_outcome'),
        ),
        migrations.RunPython(grant_roles, migrations.RunPython.noop),
    ]
