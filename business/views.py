from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.roles import Power
from nexus.permissions import StaffPermission

from . import reports
from .serializers import OverviewSerializer, RangeQuerySerializer, SeriesSerializer

RANGE_PARAMETERS = [RangeQuerySerializer]
SERIES = ("One row per {period} from `from` to `to` (Asia/Amman days, both included; {default} by default, at "
          "most five years), each with the overview's figures. Totals across currencies are in JOD.")


class StaffView(APIView):
    permission_classes = [StaffPermission]
    staff_permissions = {"GET": [Power.VIEW_METRICS]}


class OverviewView(StaffView):
    @extend_schema(
        summary="Business overview",
        description="Today's figures (Asia/Amman day) and the last 30 days': users, active users, transfers "
                    "succeeded and refused, amounts, fees, bill payments, and a per-currency breakdown. Totals "
                    "across currencies are in JOD, converted at the rate of the day each movement happened.",
        responses={200: OverviewSerializer},
    )
    def get(self, request):
        return Response(OverviewSerializer(reports.overview()).data)


class SeriesView(StaffView):
    default_days = 30
    start_of = None

    def get(self, request):
        query = RangeQuerySerializer(data=request.query_params, default_days=self.default_days)
        query.is_valid(raise_exception=True)
        first, last = query.validated_data["from"], query.validated_data["to"]
        if self.start_of is None:
            results = reports.daily(first, last)
        else:
            results = reports.periodic(first, last, type(self).start_of)
        return Response(SeriesSerializer({"results": results}).data)


class DailyView(SeriesView):
    @extend_schema(summary="Daily figures", description=SERIES.format(period="day", default="the last 30 days"),
                   parameters=RANGE_PARAMETERS, responses={200: SeriesSerializer})
    def get(self, request):
        return super().get(request)


class WeeklyView(SeriesView):
    default_days = 12 * 7
    start_of = staticmethod(reports.week_start)

    @extend_schema(summary="Weekly figures",
                   description=SERIES.format(period="ISO week (Monday to Sunday)", default="the last 12 weeks"),
                   parameters=RANGE_PARAMETERS, responses={200: SeriesSerializer})
    def get(self, request):
        return super().get(request)


class MonthlyView(SeriesView):
    default_days = 365
    start_of = staticmethod(reports.month_start)

    @extend_schema(summary="Monthly figures",
                   description=SERIES.format(period="calendar month", default="the last 365 days"),
                   parameters=RANGE_PARAMETERS, responses={200: SeriesSerializer})
    def get(self, request):
        return super().get(request)
