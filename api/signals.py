"""Domain events other apps (business, risk) subscribe to. Sent by api.services / api views only.

* ``money_moved(transaction)``: after the commit of any successful posting (transfer, deposit,
  bill, reversal). Never for a replayed idempotent request or a rolled-back one.
* ``money_refused(user, kind, code, account)``: a money movement was refused by a business rule
  (after its rollback). ``account`` is the sender account number as sent (may be unknown).
* ``user_registered(user)``: after the commit of a registration.

Logins are announced by Django's own ``user_logged_in`` and ``user_login_failed``, on every login
surface (api.views.auth, api.admin_site).

The domain signals go through ``nexus.aftercommit.send_after_commit``: every receiver runs, and one
that raises is logged, never turned into an error for a request whose work is committed.
"""

from django.dispatch import Signal

money_moved = Signal()
money_refused = Signal()
user_registered = Signal()
