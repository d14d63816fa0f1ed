"""The ASGI entry point: HTTP through Django, WebSockets (``/ws/``) through Channels.

Production serves the REST API with gunicorn (``nexus.wsgi``) and this application with uvicorn
beside it for ``/ws/`` (README, Deployment); ``scripts/run.py`` serves both from this one on a
developer machine. The WebSocket routes are the app's, named by ``settings.WEBSOCKET_URLPATTERNS``:
ground code imports no app.
"""

import os

from django.core.asgi import get_asgi_application

# Servers run production settings unless told otherwise.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nexus.settings.production")

http = get_asgi_application()  # sets Django up before anything below reads settings or apps

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

application = ProtocolTypeRouter({
    "http": http,
    "websocket": URLRouter(import_string(settings.WEBSOCKET_URLPATTERNS)),
})
