"""Real-time delivery: the channel layer, and publishing to it from synchronous code after commit.

The channel layer carries a message from the process that committed a change (a gunicorn worker, a
management command) to the processes holding WebSockets (uvicorn running ``nexus.asgi``). It must
work across processes and nodes, so it lives where the shared state lives (docs/ARCHITECTURE.md):

- **Redis** (channels-redis) when ``REDIS_URL`` is set;
- otherwise **PostgreSQL** itself (channels-postgres 1.1, psycopg 3): a message table whose insert
  trigger sends ``NOTIFY``, which every ASGI process ``LISTEN``s to; the embedded default needs no
  new server. Its layer runs on the project's database (``DATABASES["default"]``).

Publishing on PostgreSQL from synchronous code writes the layer's own message rows on the caller's
connection, one statement for any number of messages (``nexus.queries.PUBLISH``, which a caller may
also run inside its own statement: ``postgres_publication``); its
``group_send``, run through ``async_to_sync`` in a worker thread, would share one asyncio connection
pool between threads and event loops, which psycopg's pool does not support. The layer itself
serialises each message, so the consumers read exactly what its ``group_send`` would have written.
"""

import asyncio
import logging
from datetime import timedelta

import psycopg
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_postgres.core import PostgresChannelLayer as _PostgresChannelLayer
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from . import queries

log = logging.getLogger("nexus.realtime")

# Options of Django's connection that are not libpq connection parameters.
_DJANGO_ONLY_OPTIONS = ("server_side_binding", "prepare_threshold", "pool", "isolation_level", "assume_role")


class PostgresChannelLayer(_PostgresChannelLayer):
    """channels-postgres on the project's own database, as this process sees it when the layer is first
    used (the test database in tests), with no second database alias to configure."""

    def __init__(self, **config):
        settings_dict = connections[DEFAULT_DB_ALIAS].settings_dict
        options = {key: value for key, value in settings_dict.get("OPTIONS", {}).items()
                   if key not in _DJANGO_ONLY_OPTIONS}
        super().__init__(**{**settings_dict, "OPTIONS": options}, **config)
        # channels-postgres removes a closed socket from its groups through this database alias.
        self.django_db.using = DEFAULT_DB_ALIAS
        self._listener_loop = None

    def _get_or_create_listener_task(self):
        # channels-postgres 1.1 asks every receive() that runs before its listener is LISTENing to start
        # one: sockets opening together each started a listener, and each listener delivered every
        # message again (one push arrived two to five times). One listener per event loop.
        running, start = super()._get_or_create_listener_task()
        if start:
            loop = asyncio.get_running_loop()
            if self._listener_loop is loop:
                return running, False
            self._listener_loop = loop
        return running, start

    async def listen_to_all_channels(self) -> None:
        """channels-postgres 1.1's listener, kept alive: when its connection drops (the database restarted
        or failed over), the library's task ends and no push reaches this process's sockets again until
        it restarts. Here it reconnects with a growing pause, and on reconnecting reads the messages
        still queued in the table, as it does at start: a push may come late, never not at all."""
        pause = 0.25
        while True:
            try:
                await super().listen_to_all_channels()
                return  # shut down on purpose ('1:shutdown')
            except (psycopg.Error, OSError) as exc:
                log.warning("channel layer listener lost the database; reconnecting", extra={"error": repr(exc)})
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)

    def publication(self, messages: list[tuple[str, dict]]) -> list:
        """The parameters of ``nexus.queries.PUBLISH`` for these messages."""
        now = timezone.now()
        return queries.publish_parameters([self._group_key(group) for group, _ in messages],
                                          [self.serialize(message) for _, message in messages],
                                          expire=now + timedelta(seconds=self.expiry), now=now)


def postgres_publication(messages: list[tuple[str, dict]]) -> list | None:
    """When the layer is PostgreSQL: the parameters of ``nexus.queries.PUBLISH`` for ``messages``, for a
    caller that runs that statement inside its own (one round trip for its rows and their pushes, which
    then commit together); otherwise None, and the caller uses :func:`publish` after its commit."""
    layer = get_channel_layer()
    return layer.publication(messages) if isinstance(layer, PostgresChannelLayer) else None


def publish(messages: list[tuple[str, dict]]) -> None:
    """Send each ``(group, message)`` to every socket in its group, in order, from synchronous code
    (after commit)."""
    layer = get_channel_layer()
    if isinstance(layer, PostgresChannelLayer):
        queries.publish(layer.publication(messages))
    else:
        for group, message in messages:
            async_to_sync(layer.group_send)(group, message)
