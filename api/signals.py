"""Domain events other apps (business, risk) subscribe to. Sent by api.services / api views only.

* ``money_moved(transactions)``: committed postings (transfers, deposits, bills, reversals), in
  batches, oldest first (``api.queries.movements``), sent by the worker that carries out their jobs
  (api.reactions), inside the transaction that deletes the jobs: a receiver writes in it and raises to
  have the batch retried. Never for a replayed idempotent request or a rolled-back one, and exactly once
  for each committed one.
* ``money_refused(user, kind, code, account)``: a money movement was refused by a business rule. The
  request records a ``money_refused`` job after its rollback; the worker sends this signal inside the
  transaction that deletes the job (api.reactions), like ``money_moved``. ``account`` is the sender
  account number as sent (may be unknown).

Logins are announced by Django's own ``user_logged_in`` and ``user_login_failed``, on every login
surface (api.views.auth, api.admin_site).

"""

from django.dispatch import Signal

money_moved = Signal()
money_refused = Signal()
