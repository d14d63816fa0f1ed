"""The risk app's scheduled work (settings.NEXUS_SCHEDULE, run by the job worker)."""

import logging

from django.utils import timezone

from api.ledger_checks import find_discrepancies

from .models import Incident

log = logging.getLogger("nexus.risk")


def verify_ledger(*, slot) -> list[str]:
    """Nightly: the ledger check of ``manage.py verify_ledger``. A mismatch raises a high incident (one per
    night), which the risk analysts' incident list shows."""
    problems = find_discrepancies()
    if problems:
        log.error("ledger check failed", extra={"problems": problems[:5]})
        Incident.objects.get_or_create(
            dedup_key=f"ledger_mismatch:{slot:%Y-%m-%d}",
            defaults={"code": "ledger_mismatch", "event": "Ledger check failed", "severity": Incident.Severity.HIGH,
                      "subject": "ledger", "details": {"problems": problems[:20], "count": len(problems)},
                      "timestamp": timezone.now()})
    return problems
