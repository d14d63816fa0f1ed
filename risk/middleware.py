from types import SimpleNamespace

from rest_framework.exceptions import APIException
from rest_framework_simplejwt.authentication import JWTAuthentication

from nexus.client_ip import client_ip
from nexus.domain import json_error

from . import services

MESSAGE = "Requests from this address are blocked."


class IpBlocked(APIException):
    status_code = 403
    default_code = contract_code = "ip_blocked"  # the contract's code (nexus.exceptions)
    default_detail = MESSAGE


class BlockedIPMiddleware:
    """403 ``ip_blocked`` before any view (login included) for blacklisted IPs and ranges.

    The blacklist is reference data (nexus.refcache): a new entry applies to the very next request. A
    request with a bearer token for an API view is checked (in ``process_view``, once the view is known)
    on the cached list and, if the list moved, again the moment its user row tells the reference version
    (JWT authentication, before the view runs): no statement of its own. Any other request is checked
    at once and reads the version (one primary-key read).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            refused = _refusal(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return None  # checked in __call__
        view_class = getattr(view_func, "cls", None)
        if view_class is None or not any(issubclass(auth, JWTAuthentication)
                                         for auth in getattr(view_class, "authentication_classes", ())):
            return _refusal(request)
        ip = client_ip(request)

        def recheck():
            if services.is_blocked(ip):
                services.record_blocked_request(request)
                raise IpBlocked()

        return _refusal(request, recheck=recheck)


def _refusal(request, recheck=None):
    if services.is_blocked(client_ip(request), recheck=recheck):
        services.record_blocked_request(request)
        return json_error("ip_blocked", MESSAGE, 403)
    return None


def websocket_refused(meta: dict, path: str) -> bool:
    """``settings.WEBSOCKET_GUARDS``: a WebSocket from a blacklisted address is refused (closed with 4403 by
    nexus.asgi) and recorded like a blocked HTTP request."""
    request = SimpleNamespace(META=meta, path=path, method="GET")
    if services.is_blocked(client_ip(request)):
        services.record_blocked_request(request)
        return True
    return False
