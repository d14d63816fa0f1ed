"""Contract-shaped JSON for errors raised outside DRF views (unknown paths, bad requests, crashes).

Django's defaults are HTML pages; these answer every path in the API's shape, except a refusal under the
admin's prefix: the admin's pages are read by people, who get a page in its look.
"""

import sys

from django.contrib import admin
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from .exceptions import RETRY_AFTER_SECONDS, database_unavailable, error_body, service_unavailable_body


def bad_request(request, exception=None):
    # Raised by Django itself: a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields, a bad Host header.
    return JsonResponse(error_body("validation_error", "Bad request."), status=400)


def _for_admin(request) -> bool:
    # The admin's page needs the user (its header, its menu): a refusal before authentication stays JSON.
    return hasattr(request, "user") and request.path.startswith(reverse("admin:index"))


def permission_denied(request, exception=None):
    if _for_admin(request):
        context = {**admin.site.each_context(request), "title": "You do not have permission to view this page"}
        return render(request, "admin/forbidden.html", context, status=403)
    return JsonResponse(error_body("permission_denied", "You do not have permission to perform this action."),
                        status=403)


def not_found(request, exception=None):
    return JsonResponse(error_body("not_found", "Not found."), status=404)


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
