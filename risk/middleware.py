from types import SimpleNamespace

from django.http import JsonResponse
from django.urls import Resolver404, resolve
from rest_framework.exceptions import APIException
from rest_framework_simplejwt.authentication import JWTAuthentication

from nexus.client_ip import client_ip
from nexus.exceptions import error_body

from . import services

MESSAGE = "Requests from this address are blocked."


class IpBlocked(APIException):
    status_code = 403
    default_code = contract_code = "ip_blocked"  # the contract's code (nexus.exceptions)
    default_detail = MESSAGE


class BlockedIPMiddleware:
    """403 ``ip_blocked`` before any view (login included) for blacklisted IPs and ranges.

    The blacklist is reference data (nexus.refcache): a new entry applies to the very next request. An
    API request with a bearer token is checked on the cached list and, if the list moved, again the
    moment its user row tells the reference version (JWT authentication, before the view runs): no
    statement of its own. Any other request reads the version (one primary-key read) when it is checked.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        ip = client_ip(request)
        recheck = None
        if _authenticates_with_bearer(request):
            def recheck():
                if services.is_blocked(ip):
                    services.record_blocked_request(request)
                    raise IpBlocked()
        if services.is_blocked(ip, recheck=recheck):
            services.record_blocked_request(request)
            return JsonResponse(error_body("ip_blocked", MESSAGE), status=403)
        return self.get_response(request)


def _authenticates_with_bearer(request) -> bool:
    """A bearer token for a view that reads its user row first (DRF's JWT authentication): the check can
    wait for the reference version that row brings."""
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        return False
    try:
        view = resolve(request.path_info).func
    except Resolver404:
        return False
    view_class = getattr(view, "cls", None)
    return view_class is not None and any(issubclass(auth, JWTAuthentication)
                                          for auth in getattr(view_class, "authentication_classes", ()))


def websocket_refused(meta: dict, path: str) -> bool:
    """``settings.WEBSOCKET_GUARDS``: a WebSocket from a blacklisted address is refused (closed with 4403 by
    nexus.asgi) and recorded like a blocked HTTP request."""
    request = SimpleNamespace(META=meta, path=path, method="GET")
    if services.is_blocked(client_ip(request)):
        services.record_blocked_request(request)
        return True
    return False
