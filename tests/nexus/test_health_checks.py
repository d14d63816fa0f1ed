"""Two health checks (docs/SCALING.md): liveness for the load balancer, readiness for monitoring."""

import pytest
from django.db import OperationalError

from risk.models import BlockedIP


@pytest.mark.django_db
def test_liveness_answers_without_the_database(client, django_assert_num_queries):
    BlockedIP.objects.create(cidr="127.0.0.0/8", reason="even a blocked address: it says nothing")
    with django_assert_num_queries(0):
        for path in ("/health/live/", "/health/live"):
            response = client.get(path)
            assert response.status_code == 200 and response.json() == {"status": "alive"}
            assert response["Cache-Control"] == "no-store"
    assert client.post("/health/live/").status_code != 200  # a check is a GET


@pytest.mark.django_db
def test_liveness_holds_while_readiness_says_the_database_is_away(client, monkeypatch):
    def away(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr("nexus.health.queue_state", away)
    assert client.get("/health/live/").status_code == 200
    ready = client.get("/health/")
    assert ready.status_code == 503 and ready["Retry-After"].isdigit()
