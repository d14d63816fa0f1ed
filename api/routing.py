"""The WebSocket routes, named by ``settings.WEBSOCKET_URLPATTERNS`` (nexus.asgi imports no app)."""

from django.urls import re_path

from .consumers import NotificationConsumer

websocket_urlpatterns = [
    re_path(r"^ws/notifications/?$", NotificationConsumer.as_asgi()),
]
