"""Shared state across app nodes: what a client earns on node A holds on node B.

Requests go straight to each node (not through HAProxy), from the same client address:
* a throttle counted in Redis (registration, 3 per hour on this cluster) is exhausted by requests
  spread over both nodes;
* a login lockout (django-axes, in PostgreSQL) earned on node A refuses the right password on node B;
* a refresh token revoked (logout) on node A is refused on node B.
Notifications across nodes (contract v1.2, over the Redis channel layer): test_notifications.py.
"""

import json

import redis

from .client import request


def test_a_throttle_earned_on_one_node_holds_on_the_other(cluster):
    a, b = (node["port"] for node in cluster.app_nodes)
    statuses = []
    for n, port in enumerate([a, b, a, b]):
        body = {"email": f"shared-{n}@nexus.invalid", "password": "Shared-State-Pass-2026"}
        statuses.append(request(port, "POST", "/auth/register/", body)[0])
    assert statuses == [201, 201, 201, 429], statuses
    keys = redis.Redis.from_url(f"redis://127.0.0.1:{cluster.ports['redis']}/0").dbsize()
    assert keys > 0, "the throttle counters are not in Redis"


def test_a_lockout_earned_on_node_a_holds_on_node_b(cluster):
    a, b = (node["port"] for node in cluster.app_nodes)
    email, password = "lockout@nexus.invalid", "Lockout-State-Pass-2026"
    cluster.manage("shell", "-v", "0", "-c",
                   f"from api.models import User; User.objects.create_user(email='{email}', password='{password}')")
    for _ in range(5):
        status, body, _ = request(a, "POST", "/auth/jwt/create/", {"email": email, "password": "wrong-password-1"})
        assert status in (401, 429), body
    status, body, headers = request(b, "POST", "/auth/jwt/create/", {"email": email, "password": password})
    assert status == 429 and json.loads(body)["error"]["code"] == "locked_out", body
    assert "retry-after" in headers


def test_a_token_revoked_on_node_a_is_refused_on_node_b(cluster):
    a, b = (node["port"] for node in cluster.app_nodes)
    status, body, _ = request(a, "POST", "/auth/jwt/create/", {"email": "bob@nexus.local",
                                                                 "password": "Bob-Demo-Pass-2026"})
    assert status == 200, body
    tokens = json.loads(body)
    access = {"Authorization": f"Bearer {tokens['access']}"}
    assert request(b, "GET", "/auth/me/", headers=access)[0] == 200
    status, body, _ = request(a, "POST", "/auth/jwt/logout/", {"refresh": tokens["refresh"]}, access)
    assert status in (200, 204, 205), body
    status, body, _ = request(b, "POST", "/auth/jwt/refresh/", {"refresh": tokens["refresh"]})
    assert status == 401, body
