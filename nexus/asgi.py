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

from channels.db import database_sync_to_async  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import re_path  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

from nexus import heap  # noqa: E402

NOT_FOUND = 4404  # the WebSocket twin of HTTP 404, as 4401 is of 401


async def unknown_path(scope, receive, send):
    """A WebSocket on a path no route serves: accepted only to be closed with 4404 (a close code is the one
    answer a browser's WebSocket reports; Channels alone would fail the handshake with an HTTP 500).
    A bare ASGI app rather than a consumer: a socket that closes at once needs no channel layer."""
    if (await receive())["type"] == "websocket.connect":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": NOT_FOUND})


FORBIDDEN = 4403  # the WebSocket twin of HTTP 403: the client's address is blacklisted


def websocket_meta(scope) -> dict:
    """What a request's META holds for telling the client's address, from a WebSocket's scope."""
    headers = {name.decode("latin-1").upper().replace("-", "_"): value.decode("latin-1")
               for name, value in scope.get("headers", [])}
    client = scope.get("client") or ("", 0)
    return {"REMOTE_ADDR": client[0] or "", **{f"HTTP_{name}": value for name, value in headers.items()}}


class Guarded:
    """Every WebSocket passes the same checks as an HTTP request before any route: each of
    ``settings.WEBSOCKET_GUARDS`` (dotted paths, ``guard(meta, path) -> bool``: refuse) is asked; a
    refused socket is accepted only to be closed with 4403 (the risk app's blacklist, as its middleware
    does for HTTP)."""

    def __init__(self, app):
        self.app = app
        self.guards = [import_string(path) for path in settings.WEBSOCKET_GUARDS]

    async def __call__(self, scope, receive, send):
        meta = websocket_meta(scope)
        for guard in self.guards:
            if await database_sync_to_async(guard)(meta, scope.get("path", "")):
                if (await receive())["type"] == "websocket.connect":
                    await send({"type": "websocket.accept"})
                    await send({"type": "websocket.close", "code": FORBIDDEN})
                return
        await self.app(scope, receive, send)


application = ProtocolTypeRouter({
    "http": http,
    "websocket": Guarded(URLRouter([*import_string(settings.WEBSOCKET_URLPATTERNS), re_path(r"", unknown_path)])),
})

heap.settle()  # what loading made is frozen out of the collector's walks (nexus.heap)
