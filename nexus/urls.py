from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from . import docs, errors
from .health import health

urlpatterns = [
    # The API first: Django tries the patterns in order, and nearly every request is the API's (resolving
    # /accounts/ 11.7 -> 9.2 us). No API path begins like another entry here (tests/nexus/test_request_plumbing.py);
    # the API's own patterns keep the contract's order, which the OpenAPI schema follows (SORT_OPERATIONS).
    path("", include("api.urls")),
    path("", docs.LandingView.as_view(), name="landing"),
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api/redoc/redoc.standalone.js", docs.redoc_script, name="redoc-script"),
    path("api/guide/", docs.guide, name="api-guide"),
    path("business/", include("business.urls")),
    path("risk/", include("risk.urls")),
    # Last: any other path is the API's JSON 404, with DEBUG on too (where Django would answer its
    # HTML page listing every URL pattern). It ends with a slash so that the optional-slash
    # middleware still finds "/accounts/" for "/accounts" first; "/nope" becomes "/nope/" and ends here.
    re_path(r"^.*/$", errors.unknown_path),
]

handler400 = "nexus.errors.bad_request"
handler403 = "nexus.errors.permission_denied"
handler404 = "nexus.errors.not_found"
handler500 = "nexus.errors.server_error"
