"""Thin receivers: each delegates to one service."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from api.signals import login_attempted, money_moved

from . import services
from .models import BlockedIP


@receiver(login_attempted, dispatch_uid="risk.login_attempted")
def on_login_attempted(sender, request, email, user, successful, **kwargs):
    services.record_login(request=request, email=email, user=user, successful=successful)


@receiver(money_moved, dispatch_uid="risk.money_moved")
def on_money_moved(sender, transaction, **kwargs):
    services.screen_transaction(transaction)


@receiver([post_save, post_delete], sender=BlockedIP, dispatch_uid="risk.blacklist_changed")
def on_blacklist_changed(sender, **kwargs):
    services.forget_blacklist()
