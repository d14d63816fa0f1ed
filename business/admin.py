import datetime as dt
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path

from api import bounds, money
from api.admin import BoundedDates

from . import charts, selectors, services
from .models import DailyBusinessMetrics

MAX_DASHBOARD_DAYS = 366


class RangeForm(forms.Form):
    start = bounds.FormDateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = bounds.FormDateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def range(self) -> tuple[dt.date, dt.date]:
        today = services.today()
        end = (self.cleaned_data.get("end") if self.is_valid() else None) or today
        start = (self.cleaned_data.get("start") if self.is_valid() else None) or end - dt.timedelta(days=29)
        if start > end:
            start, end = end, start
        return max(start, end - dt.timedelta(days=MAX_DASHBOARD_DAYS - 1)), end


def dashboard_context(first: dt.date, last: dt.date) -> dict:
    days = selectors.daily(first, last)
    labels = [day["period_start"].isoformat() for day in days]
    currencies = sorted({code for day in days for code in day["per_currency"]}) or ["JOD"]
    totals = services.figures(first, last)
    return {
        "tiles": [
            ("Transfers", totals["total_transactions_success"]),
            ("Refused", totals["total_transactions_failed"]),
            ("Volume (JOD)", money.fmt(totals["total_transferred_amount"], "JOD")),
            ("Average (JOD)", money.fmt(totals["avg_transaction_value"], "JOD")),
            ("Fee revenue (JOD)", money.fmt(totals["fee_revenue"], "JOD")),
            ("Net revenue (JOD)", money.fmt(totals["net_revenue"], "JOD")),
            ("Bill payments", totals["bill_payments_count"]),
            ("New users", totals["new_users"]),
            ("Active users", totals["active_users"]),
        ],
        "charts": [
            charts.bar_chart(labels, [Decimal(day["total_transferred_amount"]) for day in days],
                             title="Daily transfer volume (JOD)"),
            charts.bar_chart(labels, [Decimal(day["fee_revenue"]) for day in days], title="Fee revenue (JOD)",
                             color="#8a5a00"),
            charts.bar_chart(labels, [Decimal(day["active_users"]) for day in days], title="Daily active users",
                             color="#3b5ba5"),
        ],
        "currency_chart": charts.line_chart(labels, {
            code: [Decimal(day["per_currency"].get(code, {}).get("count", 0)) for day in days] for code in currencies
        }, title="Transfers per currency (count per day)"),
        "days": days,
        "first": first,
        "last": last,
    }


@admin.register(DailyBusinessMetrics)
class DailyBusinessMetricsAdmin(BoundedDates, admin.ModelAdmin):
    list_display = ["date", "new_users", "active_users", "total_transactions_success", "total_transactions_failed",
                    "total_transferred_amount", "fee_revenue", "net_revenue", "bill_payments_count"]
    date_hierarchy = "date"
    change_list_template = "admin/business/dailybusinessmetrics/change_list.html"

    def has_add_permission(self, request):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff  # every staff member sees the KPIs

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [path("dashboard/", self.admin_site.admin_view(self.dashboard), name="business_dashboard"),
                *super().get_urls()]

    def dashboard(self, request):
        form = RangeForm(request.GET or None)
        first, last = form.range()
        context = {**self.admin_site.each_context(request), "title": "Business dashboard", "form": form,
                   "opts": self.model._meta, **dashboard_context(first, last)}
        return TemplateResponse(request, "admin/business/dashboard.html", context)
