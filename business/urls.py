from django.urls import path

from . import views

urlpatterns = [
    path("overview/", views.OverviewView.as_view(), name="business-overview"),
    path("daily/", views.DailyView.as_view(), name="business-daily"),
    path("weekly/", views.WeeklyView.as_view(), name="business-weekly"),
    path("monthly/", views.MonthlyView.as_view(), name="business-monthly"),
]
