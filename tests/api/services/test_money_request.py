"""A walk of one external transfer, as a newcomer with a profiler would take it (issue 22): view, request
service, command, transfer service, COMMIT; then the view renders. Nothing below the views calls back into
them, and no view or serializer code runs while the transaction (and its row locks) is open."""

import sys
from decimal import Decimal

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)

PROJECT = ("api", "business", "risk", "nexus")
REQUEST_LAYER = ("api.views", "api.serializers")


def _project_caller(frame):
    back = frame.f_back
    while back is not None and not back.f_globals.get("__name__", "").startswith(PROJECT):
        back = back.f_back
    return None if back is None else back.f_globals["__name__"]


def test_one_external_transfer_goes_down_and_back_once(user_client, user, account_factory, settings):
    settings.NEXUS_JOBS_EAGER = False  # the reactions are the worker's, not the request's
    sender, receiver = account_factory(owner=user, funded=Decimal("1000.000")), account_factory()
    body = {"sender_account": sender.pk, "receiver_account": receiver.pk, "amount": "10.000"}
    assert user_client.post("/transfers/external/", body, format="json", HTTP_IDEMPOTENCY_KEY="warm").status_code == 201
    back_into_views, in_transaction, modules = [], [], set()

    def profile(frame, event, arg):
        module = frame.f_globals.get("__name__", "")
        if event != "call" or not module.startswith(PROJECT):
            return
        modules.add(module)
        caller = _project_caller(frame)
        if module.startswith(REQUEST_LAYER) and caller and not caller.startswith((*REQUEST_LAYER, "nexus.middleware")):
            back_into_views.append((caller, module, frame.f_code.co_name))
        if module.startswith(REQUEST_LAYER) and connection.in_atomic_block:
            in_transaction.append((module, frame.f_code.co_name))

    sys.setprofile(profile)
    try:
        response = user_client.post("/transfers/external/", body, format="json", HTTP_IDEMPOTENCY_KEY="walk")
    finally:
        sys.setprofile(None)
    assert response.status_code == 201
    assert (back_into_views, in_transaction) == ([], [])
    assert {"api.views.transfers", "api.views.money", "api.services.money_request", "api.services.commands",
            "api.services.transfers", "api.services.ledger"} <= modules
