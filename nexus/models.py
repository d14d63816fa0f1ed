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


class Job(models.Model):
    """Work a committed operation owes (contract v1.3: reactions are never lost), or a scheduled task.

    Inserted in the transaction of the change it reacts to (a transactional outbox), so the two commit
    together or not at all: a transfer's posting statement writes its ``money_moved`` row itself. A
    worker (``manage.py run_worker``, nexus.jobs) takes rows in batches with ``FOR UPDATE SKIP LOCKED``,
    carries them out and deletes them in one transaction: exactly once, whatever dies when. A row that
    keeps failing is kept with its error (``failed_at``) for staff to retry from the admin.
    """

    id = models.BigAutoField(primary_key=True)
    topic = models.CharField(max_length=40)
    key = models.CharField(max_length=64, blank=True, help_text="The object the job is about (its id).")
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    available_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        permissions = [("retry_job", "Can retry failed jobs")]

    def __str__(self):
        return f"{self.topic} {self.key}".strip()


class ScheduleRun(models.Model):
    """One run of a scheduled task for one slot of its schedule (nexus.jobs): the unique key is what makes
    it run once, whatever the number of workers; inserted in the same transaction as the task's work."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=60)
    slot = models.DateTimeField()
    ran_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="schedulerun_once")]

    def __str__(self):
        return f"{self.name} @ {self.slot:%Y-%m-%d %H:%M}"


class ReferenceVersion(models.Model):
    """One row: a number every change of reference data moves (the changing transaction's id, set by a
    statement trigger on each such table, in its app's migrations: FX rates, the IP blacklist). Each request reads it once (nexus.refcache) and
    reloads what it caches only when it moved: a change applies to every request that starts after it was
    answered, on every worker and node (contract v1.3)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)

    def __str__(self):
        return f"reference data version {self.version}"
