from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from .health import health

urlpatterns = [
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("api.urls")),
    path("business/", include("business.urls")),
    path("risk/", include("risk.urls")),
]

handler400 = "nexus.errors.bad_request"
handler403 = "nexus.errors.permission_denied"
handler404 = "nexus.errors.not_found"
handler500 = "nexus.errors.server_error"
