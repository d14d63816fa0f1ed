import datetime as dt
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path

from api.admin import ReadOnlyAdmin, amount

from . import charts, reports, services
from .models import DailyBusinessMetrics

MAX_DASHBOARD_DAYS = 366
DEFAULT_DASHBOARD_DAYS = 30
# The contract's bounds for any date a client sends; also keeps day arithmetic far from date.max.
FIRST_YEAR, LAST_YEAR = 2000, 2999


class RangeForm(forms.Form):
    """The dashboard's day range. A bad date or a range too long is an error shown to the user,
    never silently replaced by a default or shortened."""

    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                            input_formats=["%Y-%m-%d"])
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                          input_formats=["%Y-%m-%d"])

    def _check_year(self, name):
        value = self.cleaned_data[name]
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise forms.ValidationError(f"Choose a day between the years {FIRST_YEAR} and {LAST_YEAR}.")
        return value

    def clean_start(self):
        return self._check_year("start")

    def clean_end(self):
        return self._check_year("end")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if start > end:
                raise forms.ValidationError("“From” is after “To”.")
            days = (end - start).days + 1
            if days > MAX_DASHBOARD_DAYS:
                raise forms.ValidationError(
                    f"The range has {days} days; the dashboard shows at most {MAX_DASHBOARD_DAYS}. "
                    "Choose a shorter range.")
        return cleaned


def default_range() -> tuple[dt.date, dt.date]:
    today = services.today()
    return today - dt.timedelta(days=DEFAULT_DASHBOARD_DAYS - 1), today


def dashboard_context(first: dt.date, last: dt.date) -> dict:
    days = reports.daily(first, last)
    dates = [day["period_start"] for day in days]
    currencies = sorted({code for day in days for code in day["per_currency"]}) or ["JOD"]
    totals = services.figures(first, last)
    return {
        "tiles": [
            ("Transfers", totals["total_transactions_success"]),
            ("Refused", totals["total_transactions_failed"]),
            ("Volume", amount(totals["total_transferred_amount"], "JOD")),
            ("Average transfer", amount(totals["avg_transaction_value"], "JOD")),
            ("Fee revenue", amount(totals["fee_revenue"], "JOD")),
            ("Net revenue", amount(totals["net_revenue"], "JOD")),
            ("Bill payments", totals["bill_payments_count"]),
            ("Cash deposits", amount(totals["deposits_amount"], "JOD")),
            ("Reversals", totals["reversals_count"]),
            ("New customers", totals["new_users"]),
            ("Active customers", totals["active_users"]),
        ],
        "charts": [
            charts.bar_chart(dates, [Decimal(day["total_transferred_amount"]) for day in days],
                             title="Daily transfer volume (JOD)", unit="JOD"),
            charts.bar_chart(dates, [Decimal(day["fee_revenue"]) for day in days], title="Fee revenue (JOD)",
                             unit="JOD", color="#8a5a00"),
            charts.bar_chart(dates, [Decimal(day["active_users"]) for day in days], title="Daily active users",
                             unit="users", color="#3b5ba5", whole=True),
        ],
        "currency_chart": charts.line_chart(dates, {
            code: [Decimal(day["per_currency"].get(code, {}).get("count", 0)) for day in days] for code in currencies
        }, title="Transfers per currency (count per day)", unit="transfers", whole=True),
        "days": [{**day, **{field: amount(Decimal(day[field]), "JOD") for field in
                            ("total_transferred_amount", "fee_revenue", "net_revenue")}} for day in days],
        "first": first,
        "last": last,
    }


@admin.register(DailyBusinessMetrics)
class DailyBusinessMetricsAdmin(ReadOnlyAdmin):
    list_display = ["day", "transfers", "refused", "volume", "fees", "net", "bills", "reversals", "active", "new"]
    list_display_links = ["day"]
    date_hierarchy = "date"
    change_list_template = "admin/business/dailybusinessmetrics/change_list.html"

    @admin.display(description="Day (Amman)", ordering="date")
    def day(self, obj):
        return f"{obj.date:%a %Y-%m-%d}"

    @admin.display(description="Transfers", ordering="total_transactions_success")
    def transfers(self, obj):
        return obj.total_transactions_success

    @admin.display(description="Refused", ordering="total_transactions_failed")
    def refused(self, obj):
        return obj.total_transactions_failed

    @admin.display(description="Bill payments", ordering="bill_payments_count")
    def bills(self, obj):
        return obj.bill_payments_count

    @admin.display(description="Reversals", ordering="reversals_count")
    def reversals(self, obj):
        return obj.reversals_count

    @admin.display(description="Active users", ordering="active_users")
    def active(self, obj):
        return obj.active_users

    @admin.display(description="New users", ordering="new_users")
    def new(self, obj):
        return obj.new_users

    @admin.display(description="Volume (JOD)", ordering="total_transferred_amount")
    def volume(self, obj):
        return amount(obj.total_transferred_amount, "JOD")

    @admin.display(description="Fees (JOD)", ordering="fee_revenue")
    def fees(self, obj):
        return amount(obj.fee_revenue, "JOD")

    @admin.display(description="Net revenue (JOD)", ordering="net_revenue")
    def net(self, obj):
        return amount(obj.net_revenue, "JOD")

    def get_urls(self):
        return [path("dashboard/", self.admin_site.admin_view(self.dashboard), name="business_dashboard"),
                *super().get_urls()]

    def dashboard(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "title": "Business dashboard", "opts": self.opts}
        if request.GET:
            form = RangeForm(request.GET)
            if not form.is_valid():  # the errors are shown next to the boxes; no figures for a wrong range
                return TemplateResponse(request, "admin/business/dashboard.html", {**context, "form": form})
            first, last = form.cleaned_data["start"], form.cleaned_data["end"]
        else:
            first, last = default_range()
            form = RangeForm(initial={"start": first, "end": last})
        return TemplateResponse(request, "admin/business/dashboard.html",
                                {**context, "form": form, **dashboard_context(first, last)})
