"""Idempotency keys: what was applied under a (user, key), and the first answer's body."""

from django.db import models
from django.utils import timezone


class IdempotencyRecord(models.Model):
    """The first response to a (user, key); replayed for the same request, refused for another.

    Written once, at the end of the request's transaction, with the answer's status and the result it
    names (``result_type``, a model label, and ``result_id``). The body, rendered after the commit, is kept
    apart (:class:`IdempotencyBody`) (api.services.money_request)."""

    user = models.ForeignKey(  # indexed by idempotency_unique_user_key
        "api.User", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    result_type = models.CharField(max_length=40, null=True)
    result_id = models.CharField(max_length=64, null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")]

    def __str__(self):
        return f"{self.user_id}:{self.key}"


class IdempotencyBody(models.Model):
    """The first answer's body of a (user, key), as rendered after the commit: a replay answers these very
    bytes. UNLOGGED (api 0026): writing it waits for no WAL flush, and a crash or a failover empties it;
    a replay whose body is gone is rendered again from the result its record names. The record itself
    (the key, the status, the result) is an ordinary table: what was applied is never forgotten."""

    # The pair is the primary key: no id sequence. An UNLOGGED table's sequence is unlogged too, and a
    # standby promoted by a failover found it unreadable ("bad magic number in sequence").
    pk = models.CompositePrimaryKey("user_id", "key")
    user_id = models.UUIDField()
    key = models.CharField(max_length=64)
    # JSON text, not jsonb: a replay returns the body exactly as first sent (jsonb reorders keys).
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return f"{self.user_id}:{self.key}"
