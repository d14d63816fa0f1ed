from django.urls import path

from . import views

urlpatterns = [
    path("incidents/", views.IncidentListView.as_view(), name="risk-incidents"),
    path("incidents/<uuid:pk>/", views.IncidentDetailView.as_view(), name="risk-incident-detail"),
    path("login-events/", views.LoginEventListView.as_view(), name="risk-login-events"),
    path("blacklist/", views.BlacklistView.as_view(), name="risk-blacklist"),
    path("blacklist/<int:pk>/", views.BlacklistDetailView.as_view(), name="risk-blacklist-detail"),
]
