from django.db import models


class RateLimitWindow(models.Model):
    """Fixed-window request counters for throttles (one row per client key, upserted atomically).

    Used when no Redis is configured; shared by every server process through PostgreSQL.
    """

    key = models.CharField(max_length=200, primary_key=True)
    window_start = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["window_start"], name="ratelimit_window")]

    def __str__(self):
        return f"{self.key}: {self.hits}"
