"""``/ws/notifications/``: a customer's notifications, pushed the moment they are written.

Authentication is the API's own (api.authentication): the access token comes in the query string
(``?token=<access>``) or as the subprotocol pair ``bearer, <access>`` (browsers cannot set headers
on a WebSocket); the subprotocol ``bearer`` is then echoed. A missing, bad, expired or revoked token,
or a blocked user, is accepted only to be closed with code 4401, the WebSocket twin of HTTP 401
(a close code is the one answer a browser's WebSocket reports).

Each message is one notification, the same JSON object ``GET /notifications/`` lists. The server
sends nothing else and ignores what the client sends. The socket closes with 4401 when its token
expires (reconnect with a fresh one) or when staff or the user revoke its sessions (block, revoke,
password change), so it never outlives the token that opened it.
"""

import asyncio
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from rest_framework.exceptions import APIException

from .authentication import JWTAuthentication
from .services.notifications import user_group
from .tokens import claimed_version

UNAUTHORIZED = 4401
SUBPROTOCOL = "bearer"


def _authenticate(raw: str):
    """(user, token) for a valid access token; an ``APIException`` otherwise (as the API would answer)."""
    authentication = JWTAuthentication()
    token = authentication.get_validated_token(raw.encode())
    return authentication.get_user(token), token


class NotificationConsumer(AsyncWebsocketConsumer):
    group = None
    expiry_task = None
    token_version = 0

    def _raw_token(self) -> tuple[str | None, str | None]:
        """(token, subprotocol to echo) from the subprotocols or the query string."""
        protocols = self.scope.get("subprotocols") or []
        if len(protocols) >= 2 and protocols[0].lower() == SUBPROTOCOL:
            return protocols[1], protocols[0]
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        return (query.get("token") or [None])[0], None

    async def connect(self):
        raw, subprotocol = self._raw_token()
        try:
            if not raw:
                raise PermissionError
            user, token = await database_sync_to_async(_authenticate)(raw)
        except (APIException, PermissionError, UnicodeError):
            await self.accept(subprotocol)
            await self.close(code=UNAUTHORIZED)
            return
        self.token_version = claimed_version(token)
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        # Checked again once in the group: a revocation committed between the first check and joining
        # would otherwise reach nobody, and this socket would outlive it (v1.3: every session ends).
        try:
            await database_sync_to_async(_authenticate)(raw)
        except APIException:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            self.group = None
            await self.accept(subprotocol)
            await self.close(code=UNAUTHORIZED)
            return
        await self.accept(subprotocol)
        expires = datetime.fromtimestamp(token["exp"], tz=UTC)
        self.expiry_task = asyncio.ensure_future(self._close_at(expires))

    async def _close_at(self, moment: datetime) -> None:
        await asyncio.sleep(max(0.0, (moment - datetime.now(tz=UTC)).total_seconds()))
        await self.close(code=UNAUTHORIZED)

    async def disconnect(self, code):
        if self.expiry_task is not None:
            self.expiry_task.cancel()
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        """The stream goes one way: whatever a client sends is ignored."""

    async def notification_push(self, event):
        await self.send(text_data=json.dumps(event["notification"]))

    async def sessions_revoked(self, event):
        if event.get("token_version", 0) > self.token_version:
            await self.close(code=UNAUTHORIZED)
