from types import SimpleNamespace

from django.http import JsonResponse

from nexus.client_ip import client_ip
from nexus.exceptions import error_body

from . import services


class BlockedIPMiddleware:
    """403 ``ip_blocked`` before any view (login included) for blacklisted IPs and ranges.

    The blacklist is cached per process for a few seconds: no query per request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if services.is_blocked(client_ip(request)):
            services.record_blocked_request(request)
            return JsonResponse(error_body("ip_blocked", "Requests from this address are blocked."), status=403)
        return self.get_response(request)


def websocket_refused(meta: dict, path: str) -> bool:
    """``settings.WEBSOCKET_GUARDS``: a WebSocket from a blacklisted address is refused (closed with 4403 by
    nexus.asgi) and recorded like a blocked HTTP request."""
    request = SimpleNamespace(META=meta, path=path, method="GET")
    if services.is_blocked(client_ip(request)):
        services.record_blocked_request(request)
        return True
    return False
