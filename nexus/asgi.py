"""The ASGI entry point: HTTP through Django, WebSockets (``/ws/``) through Channels.

Production serves the REST API with gunicorn (``nexus.wsgi``) and this application with uvicorn
beside it for ``/ws/`` (README, Deployment); ``scripts/run.py`` serves both from this one on a
developer machine. The WebSocket routes are the app's, named by ``settings.WEBSOCKET_URLPATTERNS``:
ground code imports no app. After them, any other path is closed with 4404 (contract v1.3).
"""

import os

from django.core.asgi import get_asgi_application

# Servers run production settings unless told otherwise.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nexus.settings.production")

http = get_asgi_application()  # sets Django up before anything below reads settings or apps

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

NOT_FOUND = 4404  # the WebSocket twin of HTTP 404, as 4401 is of 401


async def unknown_path(scope, receive, send):
    """A WebSocket on a path no route serves: accepted only to be closed with 4404 (a close code is the one
    answer a browser's WebSocket reports; Channels alone would fail the handshake with an HTTP 500).
    A bare ASGI app rather than a consumer: a socket that closes at once needs no channel layer."""
    if (await receive())["type"] == "websocket.connect":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": NOT_FOUND})


application = ProtocolTypeRouter({
    "http": http,
    "websocket": URLRouter([*import_string(settings.WEBSOCKET_URLPATTERNS), re_path(r"", unknown_path)]),
})
