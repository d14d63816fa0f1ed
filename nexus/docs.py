"""The front door and the documentation the app serves itself.

``/`` says where the documentation is (HTML for a browser, JSON for anything else); ``/api/guide/``
serves the API guide (``docs/API.md``) as text; ReDoc's script is served from here rather than from
static files because the bundle fetches its footer logo from a CDN, which the Content-Security-Policy
refuses: the served copy points that one image at nothing, so the page loads nothing remote.
"""

from functools import cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import Http404, HttpResponse
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, renderers
from rest_framework.response import Response
from rest_framework.views import APIView

from .errors import read_only
from .renderers import JSONRenderer

GUIDE = settings.BASE_DIR / "docs" / "API.md"
REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOC_REMOTE_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
# An image that fails to load: ReDoc then hides the logo (it renders the image only while it loads).
NO_IMAGE = "data:,"


class LandingView(APIView):
    """Where the documentation is: Swagger UI, ReDoc, the OpenAPI schema and the guide."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    renderer_classes = [JSONRenderer, renderers.TemplateHTMLRenderer]
    template_name = "nexus/landing.html"

    @extend_schema(exclude=True)
    def get(self, request):
        return Response({
            "name": settings.SPECTACULAR_SETTINGS["TITLE"],
            "version": settings.SPECTACULAR_SETTINGS["VERSION"],
            "docs": {
                "swagger_ui": reverse("swagger-ui"),
                "redoc": reverse("redoc"),
                "openapi_schema": reverse("schema"),
                "guide": reverse("api-guide"),
            },
            "health": reverse("health"),
        })


@read_only
def guide(request):
    """``docs/API.md``, the guide to what the schema cannot say (money, idempotency, errors, roles)."""
    try:
        text = GUIDE.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise Http404 from exc
    return HttpResponse(text, content_type="text/markdown; charset=utf-8")


@cache  # the installed package's file: the same bytes for the life of the process
def _redoc_script() -> bytes:
    path = finders.find(REDOC_BUNDLE)
    if path is None:
        raise Http404
    with open(path, encoding="utf-8") as bundle:
        return bundle.read().replace(REDOC_REMOTE_LOGO, NO_IMAGE).encode("utf-8")


@read_only
def redoc_script(request):
    response = HttpResponse(_redoc_script(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response
