"""Real-time delivery: the channel layer, and publishing to it from synchronous code after commit.

The channel layer carries a message from the process that committed a change (a gunicorn worker,
a management command) to the process holding the WebSocket (uvicorn, ``nexus.asgi``). It must work
across processes and nodes, so it lives where the shared state lives (docs/ARCHITECTURE.md): Redis
(channels-redis) when ``REDIS_URL`` is set, otherwise PostgreSQL itself (channels-postgres: a
message table whose trigger sends ``NOTIFY``; every ASGI process ``LISTEN``s), so the embedded
default needs no new server.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_postgres.core import PostgresChannelLayer as _PostgresChannelLayer
from django.db import DEFAULT_DB_ALIAS, connections

log = logging.getLogger("nexus.realtime")

# Options of the Django connection that are not libpq connection parameters.
_DJANGO_ONLY_OPTIONS = ("server_side_binding", "prepare_threshold", "pool", "isolation_level", "assume_role")


class PostgresChannelLayer(_PostgresChannelLayer):
    """channels-postgres on the project's own database (``DATABASES["default"]``, as the process sees
    it when the layer is first used: the test database in tests), with no second database alias."""

    def __init__(self, **config):
        settings_dict = connections[DEFAULT_DB_ALIAS].settings_dict
        database = {**settings_dict, "OPTIONS": {key: value for key, value in settings_dict.get("OPTIONS", {}).items()
                                                 if key not in _DJANGO_ONLY_OPTIONS}}
        super().__init__(**database, **config)
        # channels-postgres removes a closed socket's group membership through this alias.
        self.django_db.using = DEFAULT_DB_ALIAS


def publish(group: str, message: dict) -> None:
    """Send ``message`` to every socket in ``group``, from synchronous code (after commit)."""
    async_to_sync(get_channel_layer().group_send)(group, message)
