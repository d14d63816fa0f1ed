"""Thin receivers: each delegates to one service."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from api.signals import money_moved

from . import services


# Django's own login signals, sent by every login surface alike (the API, the admin, password changes).
@receiver(user_login_failed, dispatch_uid="risk.user_login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    services.record_login_failure(request=request, credentials=credentials)


@receiver(user_logged_in, dispatch_uid="risk.user_logged_in")
def on_logged_in(sender, request, user, **kwargs):
    services.record_login(request=request, email=user.get_username(), user=user, successful=True)


@receiver(user_locked_out, dispatch_uid="risk.user_locked_out")
def on_locked_out(sender, request=None, username=None, **kwargs):
    services.user_locked_out(email=username)


@receiver(money_moved, dispatch_uid="risk.money_moved")
def on_money_moved(sender, transactions, **kwargs):
    services.screen_transactions(transactions)
