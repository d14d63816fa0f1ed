"""Domain events other apps (business, risk) subscribe to. Sent by api.services / api views only.

* ``money_moved(transactions)``: committed postings (transfers, deposits, bills, reversals), in
  batches, sent by the worker that carries out their jobs (api.reactions), inside the transaction that
  deletes the jobs: a receiver writes in it and raises to have the batch retried. Never for a
  replayed idempotent request or a rolled-back one, and exactly once for each committed one.
* ``money_refused(user, kind, code, account)``: a money movement was refused by a business rule
  (after its rollback). ``account`` is the sender account number as sent (may be unknown).
* ``user_registered(user)``: after the commit of a registration.

Logins are announced by Django's own ``user_logged_in`` and ``user_login_failed``, on every login
surface (api.views.auth, api.admin_site).

``money_refused`` and ``user_registered`` go through ``nexus.aftercommit.send_after_commit``: every
receiver runs, and one that raises is logged, never turned into an error for a request.
"""

from django.dispatch import Signal

money_moved = Signal()
money_refused = Signal()
user_registered = Signal()
