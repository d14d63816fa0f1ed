"""Contract-shaped JSON for errors raised outside DRF views (unknown paths, crashes)."""

from django.http import JsonResponse

from .exceptions import error_body


def not_found(request, exception=None):
    return JsonResponse(error_body("not_found", "Not found."), status=404)


def server_error(request):
    return JsonResponse(error_body("server_error", "Internal server error."), status=500)
