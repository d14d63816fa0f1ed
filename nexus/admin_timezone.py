"""Show the admin in the bank's time zone; the API keeps answering in UTC."""

import zoneinfo

from django.conf import settings
from django.utils import timezone


class AdminTimeZoneMiddleware:
    """Activate ``BANK_TIME_ZONE`` for requests under ``/admin/`` only.

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
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
