"""Thin receivers: each delegates to one service. Everything is recorded after commit."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from api.signals import money_moved, money_refused

from . import services


@receiver(money_moved, dispatch_uid="business.money_moved")
def on_money_moved(sender, transactions, **kwargs):
    services.record_transactions(transactions)  # in the job worker's transaction (api.reactions)


@receiver(money_refused, dispatch_uid="business.money_refused")
def on_money_refused(sender, user, kind, code, **kwargs):
    services.record_refusal(user=user)  # in the job worker's transaction (api.reactions)


@receiver(user_logged_in, dispatch_uid="business.user_logged_in")
def on_login(sender, user, **kwargs):
    services.record_login(user=user)
