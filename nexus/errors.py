"""Contract-shaped JSON for errors raised outside DRF views (unknown paths, bad requests, crashes).

Django's defaults are HTML pages; these answer every path in the API's shape, except under the admin's
prefix: the admin's pages are read by people, who get a page in its look (``_answer``, every status).
"""

import sys

from django.contrib import admin
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from .exceptions import RETRY_AFTER_SECONDS, database_unavailable, error_body, service_unavailable_body


def _for_admin(request) -> bool:
    # The admin's page needs the user (its header, its menu): an error before authentication stays JSON.
    return hasattr(request, "user") and request.path.startswith(reverse("admin:index"))


# status: (code, the API's message, the admin page's title, what the admin page tells a member of staff)
ANSWERS = {
    400: ("validation_error", "Bad request.", "Bad request",
          "The page could not read what was sent. Go back and try again."),
    403: ("permission_denied", "You do not have permission to perform this action.",
          "You do not have permission to view this page",
          "Your role does not include this page. If your work needs it, ask a supervisor."),
    404: ("not_found", "Not found.", "Page not found",
          "There is no such page, or what it showed no longer exists."),
}


def _answer(request, status: int):
    code, message, title, explanation = ANSWERS[status]
    if _for_admin(request):
        context = {**admin.site.each_context(request), "title": title, "message": explanation,
                   "message_id": {403: "forbidden-message"}.get(status, "error-message")}
        return render(request, "admin/error.html", context, status=status)
    return JsonResponse(error_body(code, message), status=status)


def bad_request(request, exception=None):
    # Raised by Django itself: a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields, a bad Host header.
    return _answer(request, 400)


def permission_denied(request, exception=None):
    return _answer(request, 403)


def not_found(request, exception=None):
    return _answer(request, 404)


def server_error(request):
    # Django calls this inside its except block: a database outage met outside a DRF view (middleware,
    # admin, the docs) is the contract's 503, not a crash.
    if database_unavailable(sys.exc_info()[1]):
        response = JsonResponse(service_unavailable_body(), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        response._has_been_logged = True  # logged once as a warning, not as a traceback per request
        return response
    return JsonResponse(error_body("server_error", "Internal server error."), status=500)


@csrf_exempt  # a POST to an unknown path is a 404, not a CSRF failure page
def unknown_path(request):
    """The last URL pattern: the same 404 whatever the method, whether DEBUG is on or not."""
    return not_found(request)
