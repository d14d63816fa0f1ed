from django.db import models


class RateLimitWindow(models.Model):
    """Fixed-window request counters for throttles (one row per client key, upserted atomically).

    Used when no Redis is configured (nexus.throttles); shared by every server process through
    PostgreSQL. The table is UNLOGGED (migration 0001): no WAL, no flush at commit, emptied by a crash,
    which is all a rate limit can lose.
    """

    key = models.CharField(max_length=200, primary_key=True)
    window_start = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["window_start"], name="throttle_window_start")]

    def __str__(self):
        return f"{self.key}: {self.hits}"
