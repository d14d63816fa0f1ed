"""django-axes lockout answer in the contract's error shape."""

from django.http import JsonResponse

from nexus.exceptions import error_body


def lockout_response(request, response=None, credentials=None, *args, **kwargs):
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 1800
    body = error_body("locked_out", "Too many failed login attempts; try again later.", {"retry_after": seconds})
    answer = JsonResponse(body, status=429)
    answer["Retry-After"] = str(seconds)
    return answer
