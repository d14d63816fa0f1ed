"""The core's own reactions to its domain events (api.signals), sent by the job worker (api.reactions): one-line delegates."""

from django.dispatch import receiver

from .services import notifications
from .signals import money_moved


@receiver(money_moved, dispatch_uid="api.notifications.money_moved")
def on_money_moved(sender, transactions, **kwargs):
    notifications.money_moved(transactions)
