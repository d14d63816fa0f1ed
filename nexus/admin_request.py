"""What an admin request runs with: the bank's time zone, and who is looking. The API keeps answering in UTC."""

import zoneinfo
from contextvars import ContextVar

from django.conf import settings
from django.utils import timezone

_viewer: ContextVar = ContextVar("nexus_admin_request", default=None)


def current_admin_request():
    """The admin request being answered (its page is being rendered), or None outside one: the back office's
    link helpers ask it whether the viewer may open what they link to."""
    return _viewer.get()


class AdminRequestMiddleware:
    """For requests under ``/admin/`` only: activate ``BANK_TIME_ZONE`` and remember the request while the
    response is made, rendering included (a TemplateResponse renders after the view returns).

    The bank day is Amman's: a teller's "Today" filter, the date drill-down and every time shown
    must be Amman's too. Other requests skip this after one prefix test.
    """

    prefix = "/admin/"

    def __init__(self, get_response):
        self.get_response = get_response
        self.zone = zoneinfo.ZoneInfo(settings.BANK_TIME_ZONE)

    def __call__(self, request):
        if not request.path_info.startswith(self.prefix):
            return self.get_response(request)
        timezone.activate(self.zone)
        token = _viewer.set(request)
        try:
            return self.get_response(request)
        finally:
            _viewer.reset(token)
            timezone.deactivate()
