"""The job queue and the scheduler (contract v1.3: nothing after a commit is best-effort).

**Reactions.** Whatever a committed operation owes (notifications, business facts, risk screening) is
a :class:`~nexus.models.Job` row inserted in the operation's own transaction (:func:`enqueue`, or the
posting statement itself for money): committed together, or not at all. A worker takes waiting rows in
batches (``FOR UPDATE SKIP LOCKED``, so workers never take the same row), hands each topic's batch to
its handler (``settings.NEXUS_JOB_HANDLERS``: topic -> dotted path of ``handler(jobs)``), and deletes
the rows in the same transaction as the handler's writes: a job is carried out exactly once, even if a
process dies anywhere. A batch that fails is retried one job at a time, so one bad job cannot hold the
others; a job failing ``MAX_ATTEMPTS`` times is kept with its error for staff (the admin's queue page).

**Schedules.** ``settings.NEXUS_SCHEDULE`` names tasks to run every N seconds or daily at a bank-local
time. A task runs once per slot of its schedule whatever the number of workers: the worker inserts
(task, slot) under a unique key in the same transaction as the task's work. A worker that was down
runs a missed task once when it comes back (the latest slot only), never once per missed slot.

**The worker** (``manage.py run_worker``; ``scripts/run.py`` starts one beside the server) looks for
waiting jobs every ``POLL_SECONDS`` (100 ms: one indexed statement when there is nothing to do) and
takes what gathered meanwhile as one batch (after a full batch, the next at once); when the database
goes away it waits and reconnects by itself. Not ``LISTEN/NOTIFY``: PostgreSQL serialises the commits of every transaction that notifies
(one lock on its notification queue), which cost the money path more than polling costs the worker.

Ground code: handlers and tasks are named by dotted path in settings, never imported from an app.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from . import queries, refcache
from .models import Job, ScheduleRun

log = logging.getLogger("nexus.jobs")

BATCH = 500
MAX_ATTEMPTS = 5
# How long an idle worker waits before looking again: the bound on how much later than its commit a
# reaction starts (notifications are pushed well within the contract's second), and what lets jobs
# gather into one batch under load (its fixed statements paid once for a few dozen jobs).
POLL_SECONDS = 0.1
SCHEDULE_EVERY_SECONDS = 5.0


def enqueue(topic: str, key="", payload: dict | None = None) -> None:
    """Owe a reaction: a job row in the caller's transaction (committed with it, or not at all)."""
    now = timezone.now()
    Job.objects.create(topic=topic, key=str(key), payload=payload or {}, created_at=now, available_at=now)
    owed()


def owed() -> None:
    """Called wherever a job row is written (:func:`enqueue`, the posting). With ``NEXUS_JOBS_EAGER`` (the
    in-process tests only: they have no worker) the committing thread drains the queue at commit, as the
    worker would; otherwise nothing: a worker finds the job at its next look (``POLL_SECONDS``)."""
    if settings.NEXUS_JOBS_EAGER:
        transaction.on_commit(drain_all)


@cache
def _known(topic: str) -> Callable:
    return import_string(settings.NEXUS_JOB_HANDLERS[topic])


def _handler(topic: str) -> Callable:
    if topic not in settings.NEXUS_JOB_HANDLERS:
        raise LookupError(f"no handler for the topic {topic!r}")
    return _known(topic)


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(300, 2 ** attempts))


def _fail(job: Job, exc: BaseException) -> None:
    """Count a failed attempt: retried later, or kept as failed after MAX_ATTEMPTS (never dropped)."""
    job.attempts += 1
    job.last_error = "".join(traceback.format_exception(exc))[-4000:]
    now = timezone.now()
    job.available_at = now + _backoff(job.attempts)
    job.failed_at = now if job.attempts >= MAX_ATTEMPTS else None
    Job.objects.filter(pk=job.pk).update(attempts=job.attempts, last_error=job.last_error,
                                         available_at=job.available_at, failed_at=job.failed_at)
    log.error("job failed", extra={"job": job.pk, "topic": job.topic, "key": job.key, "attempts": job.attempts,
                                   "error": repr(exc)})


def _database_gone(exc: BaseException) -> bool:
    """The connection died under the work (an outage: the worker waits and reconnects), as opposed to a
    job's own failure (counted on the job)."""
    return isinstance(exc, DatabaseError) and not connection.is_usable()


def _by_topic(jobs: list[Job]) -> dict[str, list[Job]]:
    grouped: dict[str, list[Job]] = defaultdict(list)
    for job in jobs:
        grouped[job.topic].append(job)
    return grouped


def drain(batch: int = BATCH) -> int:
    """Carry out up to ``batch`` waiting jobs, oldest first; return how many were taken.

    One transaction takes and deletes the batch (nexus.queries.take_jobs), hands each topic's jobs to
    its handler and commits: the jobs are done with everything their handlers wrote, or not at all.
    When anything in it fails, it rolls back (the jobs are waiting again) and each job is then carried
    out on its own, so one bad job cannot hold the others and the failure is counted on the job that
    causes it.
    """
    jobs: list[Job] = []
    try:
        with transaction.atomic(), refcache.pinned():  # reference data at one version for the batch
            jobs = queries.take_jobs(timezone.now(), batch)
            for topic, group in _by_topic(jobs).items():
                _handler(topic)(group)
        return len(jobs)
    except Exception as exc:  # noqa: BLE001 - a bad job in the batch: found below
        if _database_gone(exc) or not jobs:
            raise
    for job in jobs:
        _carry_out_alone(job)
    return len(jobs)


def _carry_out_alone(job: Job) -> None:
    try:
        with transaction.atomic(), refcache.pinned():
            if not Job.objects.select_for_update(skip_locked=True).filter(pk=job.pk, failed_at__isnull=True).exists():
                return  # another worker has it, or carried it out meanwhile
            _handler(job.topic)([job])
            Job.objects.filter(pk=job.pk).delete()
    except Exception as exc:  # noqa: BLE001
        if _database_gone(exc):
            raise
        _fail(job, exc)


def drain_all(batch: int = BATCH) -> int:
    """Drain until nothing is waiting (tests, and the worker after each wake-up)."""
    total = 0
    while (taken := drain(batch)):
        total += taken
    return total


# --- the scheduler ------------------------------------------------------------------------------

def _slot(entry: dict, now: dt.datetime) -> dt.datetime:
    """The latest slot of ``entry``'s schedule at ``now``."""
    if "every" in entry:
        seconds = int(entry["every"])
        return dt.datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=dt.UTC)
    zone = ZoneInfo(settings.BANK_TIME_ZONE)
    local = now.astimezone(zone)
    hour, minute = (int(part) for part in entry["daily_at"].split(":"))
    slot = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if slot > local:
        slot -= dt.timedelta(days=1)
    return slot.astimezone(dt.UTC)


def run_due(now: dt.datetime | None = None) -> list[str]:
    """Run every scheduled task whose current slot has not run yet; return the names run.

    Each in its own transaction with its slot's row: a second worker waits on the unique key, then
    finds the slot taken; a task that fails rolls its slot back and is tried again next time.
    """
    now = now or timezone.now()
    ran = []
    for entry in settings.NEXUS_SCHEDULE:
        slot = _slot(entry, now)
        if ScheduleRun.objects.filter(name=entry["name"], slot=slot).exists():
            continue
        try:
            with transaction.atomic():
                _, created = ScheduleRun.objects.get_or_create(name=entry["name"], slot=slot,
                                                               defaults={"ran_at": now})
                if created:
                    import_string(entry["call"])(slot=slot)
                    ran.append(entry["name"])
        except Exception as exc:  # noqa: BLE001 - logged; the slot is tried again
            if _database_gone(exc):
                raise
            log.error("scheduled task failed", exc_info=True, extra={"task": entry["name"]})
    return ran


# --- the queue as staff and /health/ see it ------------------------------------------------------

WAITING = Q(failed_at__isnull=True)


def queue_state() -> dict:
    """Depth, the oldest waiting job's age in seconds, and how many failed (one statement)."""
    row = Job.objects.aggregate(waiting=Count("id", filter=WAITING), oldest=Min("created_at", filter=WAITING),
                                failed=Count("id", filter=~WAITING))
    oldest = row["oldest"]
    return {"waiting": row["waiting"], "failed": row["failed"],
            "oldest_seconds": round((timezone.now() - oldest).total_seconds(), 1) if oldest else 0}


def retry(job_ids) -> int:
    """Staff put failed jobs back in the queue (the admin's Retry)."""
    now = timezone.now()
    return Job.objects.filter(pk__in=job_ids).update(failed_at=None, attempts=0, available_at=now)


# --- the worker ---------------------------------------------------------------------------------

def run_worker(*, stop: Callable[[], bool] = lambda: False, once: bool = False) -> None:
    """Carry out jobs and schedules until ``stop()``; survive the database going away."""
    pause = 0.5
    next_schedule = 0.0
    while not stop():
        try:
            # A full batch means more are waiting: the next at once. Otherwise a pause, in which the
            # next batch gathers (its fixed statements then paid once for a few dozen jobs).
            while drain() == BATCH:
                pass
            if time.monotonic() >= next_schedule:
                run_due()
                next_schedule = time.monotonic() + SCHEDULE_EVERY_SECONDS
            pause = 0.5
            if once:
                return
            time.sleep(POLL_SECONDS)
        except DatabaseError as exc:
            log.warning("worker: the database is unavailable, retrying", extra={"error": repr(exc)})
            connection.close()
            time.sleep(pause)
            pause = min(pause * 2, 5.0)
    try:  # stopping: what was committed meanwhile is carried out now rather than by the next worker
        drain_all()
    except DatabaseError:
        connection.close()
