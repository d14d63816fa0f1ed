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
