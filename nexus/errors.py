"""Contract-shaped JSON for errors raised outside DRF views (unknown paths, bad requests, crashes).

Django's defaults are HTML pages; these answer every path in the API's shape, except under the admin's
prefix: the admin's pages are read by people, who get a page in its look (``_answer``). What still
answers an error another way (whitenoise, Django's CSRF and ``DEBUG`` pages, a plain view's empty 405)
is rewritten on the way out by :func:`contract_shaped` (``nexus.middleware.JsonErrorsMiddleware``).
"""

import sys

from django.contrib import admin
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe

from .domain import json_error
from .exceptions import RETRY_AFTER_SECONDS, database_unavailable, service_unavailable_body


def _for_admin(request) -> bool:
    # The admin's page needs the user (its header, its menu): an error before authentication stays JSON.
    return hasattr(request, "user") and request.path.startswith(reverse("admin:index"))


# status: (code, the API's message, the admin page's title, what the admin page tells a member of staff).
# The code of an error that DRF's handler did not write; a status not listed is ``UNLISTED``.
ANSWERS = {
    400: ("validation_error", "Bad request.", "Bad request",
          "The page could not read what was sent. Go back and try again."),
    403: ("permission_denied", "You do not have permission to perform this action.",
          "You do not have permission to view this page",
          "Your role does not include this page. If your work needs it, ask a supervisor."),
    404: ("not_found", "Not found.", "Page not found",
          "There is no such page, or what it showed no longer exists."),
    405: ("method_not_allowed", "Method not allowed.", "This page cannot be used that way",
          "Go back and use the page's own buttons and links."),
    500: ("server_error", "Internal server error.", None, None),  # the admin too: nothing is rendered in a crash
}
UNLISTED = ("error", "Request failed.", None, None)
# What described the replaced body; the other headers (Allow, Retry-After, X-Request-ID...) stay.
_BODY_HEADERS = {"content-type", "content-length", "content-encoding", "content-disposition", "content-language",
                 "content-range", "etag", "last-modified"}


def _answer(request, status: int):
    code, message, title, explanation = ANSWERS.get(status, UNLISTED)
    if title and _for_admin(request):
        context = {**admin.site.each_context(request), "title": title, "message": explanation,
                   "message_id": {403: "forbidden-message"}.get(status, "error-message")}
        return render(request, "admin/error.html", context, status=status)
    return json_error(code, message, status)


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
    return _answer(request, 500)


def contract_shaped(request, response):
    """``response``, unless it is an error in neither JSON nor the admin's look: then the error of its status
    in the contract's JSON shape (under ``/admin/``, an empty one becomes the admin's page), its headers kept.

    Catches what DRF's handler and Django's handlers never see: whitenoise's 405 on a static file, the CSRF
    failure page, a plain view's empty 405, and with ``DEBUG`` on the 404 page listing every URL pattern and
    the 500 traceback page.
    """
    status = response.status_code
    if status < 400 or response.get("Content-Type", "").startswith("application/json"):
        return response
    if _for_admin(request):
        if response.streaming or response.content or not ANSWERS.get(status, UNLISTED)[2]:
            return response  # a page of the admin's, or of Django's that the admin shows (CSRF failure)
        replacement = _answer(request, status)
    else:
        code, message, _, _ = ANSWERS.get(status, UNLISTED)
        replacement = json_error(code, message, status)
    for header, value in response.items():
        if header.lower() not in _BODY_HEADERS:
            replacement[header] = value
    replacement.cookies = response.cookies
    if getattr(response, "_has_been_logged", False):  # Django logs an error response once
        replacement._has_been_logged = True
    return replacement


def read_only(view):
    """A plain (non-DRF) view that only reads: GET and HEAD, any other method its 405. No CSRF check, which
    would answer an unsafe method with a 403 before the view could refuse it; the view changes nothing."""
    return csrf_exempt(require_safe(view))


@csrf_exempt  # a POST to an unknown path is a 404, not a CSRF failure page
def unknown_path(request):
    """The last URL pattern: the same 404 whatever the method, whether DEBUG is on or not."""
    return not_found(request)
