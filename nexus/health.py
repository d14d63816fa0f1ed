"""Two checks, two questions (docs/SCALING.md, "Health checks").

- **Liveness**, ``/health/live/``: is this process serving HTTP? Answered by the first middleware, before
  anything that could touch the database, so it is 200 in a millisecond whatever the database does. The
  load balancer's check (HAProxy): a node leaves the rotation only when *it* is dead or wedged. A database
  failover is the same for every node; taking them all out for it would turn a 503 with ``Retry-After``
  into a total outage that lasts until the checks pass again.
- **Readiness**, ``/health/``: can this node do its work? 200 with the job queue's depth when the database
  answers, 503 ``service_unavailable`` (within about a second: every wait on the database is bounded)
  when it does not. For monitoring, deploys and the operator.
"""

from django.http import JsonResponse

from .errors import read_only
from .exceptions import RETRY_AFTER_SECONDS, service_unavailable_body
from .jobs import queue_state


@read_only
def health(request):
    """200 when the database answers (with the job queue's depth), 503 otherwise. No authentication."""
    try:
        queue = queue_state()  # one statement: it also tells that the database answers
    except Exception:  # noqa: BLE001 - any database failure means "down"
        # A load balancer takes the node out of rotation on this answer (HAProxy's httpchk).
        response = JsonResponse({"status": "error", "database": "unavailable", **service_unavailable_body()},
                                status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response._has_been_logged = True  # logged once as a warning, not as an ERROR per probe
        return response
    return JsonResponse({"status": "ok", "database": "ok", "queue": queue})


LIVE_PATHS = ("/health/live/", "/health/live")


class LivenessMiddleware:
    """``GET /health/live/`` -> 200 ``{"status": "alive"}``, before any other middleware (no database, no
    log line per probe). Other methods go on to the usual 405 of an unknown route."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path in LIVE_PATHS and request.method in ("GET", "HEAD"):
            response = JsonResponse({"status": "alive"})
            response["Cache-Control"] = "no-store"
            return response
        return self.get_response(request)
