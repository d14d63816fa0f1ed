"""Writes of the risk app: login events, incidents (deduplicated by the database), the blacklist."""

import ipaddress
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from api.exceptions import BlacklistRefused, InvalidInput, NotFound
from api.models import User
from api.services import notifications
from api.services.audit import Action as AuditAction
from api.services.audit import audit, diff
from api.services.conflicts import refuse_own
from nexus.client_ip import client_country, client_ip, normalize_ip, normalize_network, parse_ip
from nexus.context import current_request
from nexus.refcache import cached, cached_or_later

from . import queries
from .detectors import Finding, LoginContext, RequestContext, TransactionContext
from .lockout import login_username
from .models import BlockedIP, Incident, LoginEvent, LoginLockout
from .registry import detectors_for

log = logging.getLogger("nexus.risk")


def record_incident(detector, finding: Finding, now=None) -> Incident | None:
    """One incident per rule, subject and window, decided by the database alone (:func:`record_incidents`).
    The incident is dated ``finding.at`` (a movement's time), else ``now``, else the present."""
    return record_incidents(detector, [finding], now)[0]


def record_incidents(detector, findings, now=None) -> list[Incident | None]:
    """The incidents of ``findings`` in their order, each ``None`` where it is a duplicate.

    An incident of the same rule and subject within the rule's window (index incident_rule_subject)
    makes a new one a duplicate, one written earlier in the same batch included; the unique dedup key
    (rule, subject, window bucket) settles concurrent detections. Every worker and node gives the same
    answer. Incidents are never deleted (contract v1.3, migration 0006): a rule is armed again when its
    window is over, never by removing one. The standing incidents of the whole batch are read in one
    statement (risk.queries.latest_incidents), not one per finding: a rule that fires for every movement
    of a night (unusual_hour) made the job worker ask once per movement. What another worker records
    meanwhile still makes a new one a duplicate: through the dedup key, and by being read again when the
    key says so.
    """
    findings = list(findings)
    if not findings:
        return []
    now = now or timezone.now()
    times = [finding.at or now for finding in findings]
    latest = queries.latest_incidents(detector.code, [finding.subject for finding in findings],
                                      min(times) - detector.window)
    recorded = []
    for finding, at in zip(findings, times, strict=True):
        standing = latest.get(finding.subject)
        if standing is not None and standing > at - detector.window:
            recorded.append(None)
            continue
        incident = _create_incident(detector, finding, at)
        recorded.append(incident)
        if incident is not None:
            latest[finding.subject] = at
        else:  # a concurrent detection won: its incident is the one standing now
            latest.update(queries.latest_incidents(detector.code, [finding.subject], at - detector.window))
    return recorded


def _create_incident(detector, finding: Finding, at) -> Incident | None:
    bucket = int(at.timestamp() // detector.window.total_seconds())
    try:
        with transaction.atomic():
            return Incident.objects.create(
                code=detector.code, event=detector.event, severity=detector.severity, subject=finding.subject,
                dedup_key=f"{detector.code}:{finding.subject}:{bucket}"[:360], user=finding.user, ip=finding.ip,
                country=finding.country or "", details=finding.details, timestamp=at,
            )
    except IntegrityError:
        return None  # a concurrent detection of the same rule, subject and window won


def record_login_failure(*, request, credentials: dict) -> LoginEvent | None:
    """A failed attempt as ``authenticate()`` reports it (a wrong password, an unknown, inactive or
    locked-out user), on whichever login surface."""
    return record_login(request=request, email=login_username(request, credentials) or "", user=None,
                        successful=False)


def record_login(*, request, email: str, user, successful: bool) -> LoginEvent | None:
    """Store the attempt and run the login rules on it.

    Every attempt is kept and screened: dropping some would let an attacker blind the rules by
    padding an IP with logins. What one client can make us write is bounded by the throttles of each
    login surface (the API's login and anonymous throttles, the admin's per-IP login throttle).
    """
    if request is None:  # authenticate() called outside a request (a shell): no client to screen
        return None
    ip = client_ip(request)
    now = timezone.now()
    event = LoginEvent.objects.create(
        user=user if successful else None, attempted_email=(email or "")[:254], ip=ip,
        country=client_country(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:256],
        successful=successful, timestamp=now,
    )
    if successful and event.country:
        _alert_new_country(user, event)
    context = LoginContext(email=event.attempted_email, ip=ip, country=event.country, successful=successful,
                           user=user if successful else None, timestamp=now, event_id=event.pk)
    for detector in detectors_for("login"):
        finding = detector.evaluate(context)
        if finding is not None:
            record_incident(detector, finding, now)
    return event


def _alert_new_country(user, event: LoginEvent) -> None:
    """A ``security_alert`` to the user when a login comes from a country none of their earlier logins did
    (not for the first login with a known country: there is nothing to compare it with)."""
    earlier = LoginEvent.objects.filter(user=user, successful=True).exclude(pk=event.pk).exclude(country="")
    if earlier.exists() and not earlier.filter(country=event.country).exists():
        notifications.security_alert(user_id=user.pk, event="new_country", title="Login from a new country",
                                     body=f"Someone logged in to your account from {event.country}. If this was "
                                          "not you, change your password.", data={"country": event.country})


def user_locked_out(*, email: str) -> None:
    """Tell the user (if the email is one) that logins to their account are locked out for a while."""
    user = User.objects.filter(email=(email or "").strip().lower()).first()
    # axes reports the lockout again on every refused attempt during it: one alert per cool-off period.
    if user is not None and not notifications.recent_alert(user_id=user.pk, event="lockout",
                                                           within=settings.AXES_COOLOFF_TIME):
        notifications.security_alert(user_id=user.pk, event="lockout", title="Logins locked after failed attempts",
                                     body="Too many failed logins: logins from that address are paused for a while. "
                                          "If this was not you, change your password.")


def screen_transactions(transactions) -> None:
    """Screen a batch of committed movements (the job worker's, api.reactions, oldest first), after the
    commit: a refused or rolled-back transfer never gets here, and a committed one always does, once.

    Whoever started it, staff included: a staff user's own transfers are screened like anyone's. Each
    rule decides which kinds it looks at (deposits and reversals are not outgoing transfers), sees the
    batch at once (``Detector.evaluate_many``), and a cumulative rule (velocity) only each user's latest
    movement, whose window holds the others.
    """
    contexts = [TransactionContext(transaction=txn, user=txn.initiated_by)
                for txn in transactions if txn.initiated_by_id is not None]
    latest = list({context.user.pk: context for context in contexts}.values())
    for detector in detectors_for("transaction"):
        record_incidents(detector, detector.evaluate_many(latest if detector.cumulative else contexts))


# --- blacklist -------------------------------------------------------------------------------

# The blacklist is reference data (nexus.refcache): read again when the reference version moved, so an
# entry added or removed applies to every request that starts after the change was answered.


def _load_networks() -> tuple:
    specs = list(settings.RISK_BLACKLISTED_IPS) + list(BlockedIP.objects.values_list("cidr", flat=True))
    networks = []
    for spec in specs:
        try:
            network = normalize_network(spec)
        except ValueError:
            log.warning("ignoring invalid blacklist entry", extra={"entry": spec})
            continue
        refusal = blacklist_refusal(network)
        if refusal is not None:  # an entry from before the guard, or from the environment (check risk.E007)
            log.error("ignoring a blacklist entry that would lock the bank out", extra={"entry": spec, **refusal})
            continue
        networks.append(network)
    return tuple(networks)


def is_blocked(ip: str, *, recheck=None) -> bool:
    """Whether ``ip`` is blacklisted. With ``recheck`` (an authenticated API request, which learns the
    reference version from its user row): on what is cached now, and ``recheck()`` is called once the
    version is known if the blacklist moved meanwhile (nexus.refcache.cached_or_later)."""
    address = parse_ip(ip)
    if address is None:
        return False
    networks = (cached("ip_blacklist", _load_networks) if recheck is None
                else cached_or_later("ip_blacklist", _load_networks, recheck))
    return any(address.version == network.version and address in network for network in networks)


def record_blocked_request(request) -> None:
    """An incident per IP per window (the database de-duplicates repeated hits)."""
    ip = client_ip(request)
    for detector in detectors_for("blocked_request"):
        finding = detector.evaluate(RequestContext(ip=ip, path=request.path, method=request.method,
                                                   country=client_country(request)))
        if finding is not None:
            record_incident(detector, finding)


ALREADY_BLOCKED = "Already blocked."

# v1.3: no single entry may lock the bank out. Wider than these, a range is refused whoever asks.
WIDEST_PREFIX = {4: 16, 6: 48}
LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def is_blacklisted(cidr: str) -> bool:
    """Whether this very network (normalised) is on the blacklist already."""
    return BlockedIP.objects.filter(cidr=cidr).exists()


def normalize_cidr(value: str) -> str:
    return str(normalize_network(value))


def blacklist_refusal(network, *, requester_ip: str | None = None) -> dict | None:
    """Why ``network`` may not be blacklisted (``details`` of ``blacklist_refused``), or None if it may.

    The one rule, for the API, the admin and the environment's list alike: a range wider than /16 (IPv4)
    or /48 (IPv6), or one that holds a loopback address, a trusted proxy or the requester's own address.
    """
    cidr = str(network)
    widest = WIDEST_PREFIX[network.version]
    if network.prefixlen < widest:
        return {"reason": "too_wide", "cidr": cidr, "widest_prefix": widest}
    if network.network_address.is_unspecified or network.network_address.is_link_local:
        # 0.0.0.0 and :: stand for an address the app could not read (nexus.client_ip): blocking them
        # blocks whoever sends garbage, not an attacker; a link-local address never reaches the bank.
        return {"reason": "not_routable", "cidr": cidr}
    for loopback in LOOPBACK:
        if network.version == loopback.version and network.overlaps(loopback):
            return {"reason": "contains_loopback", "cidr": cidr, "loopback": str(loopback)}
    for spec in settings.TRUSTED_PROXIES:
        try:
            proxy = normalize_network(spec)
        except ValueError:
            continue  # reported by the check risk.E006
        if network.version == proxy.version and network.overlaps(proxy):
            return {"reason": "contains_trusted_proxy", "cidr": cidr, "proxy": str(proxy)}
    requester = parse_ip(requester_ip or "")
    if requester is not None and requester.version == network.version and requester in network:
        return {"reason": "contains_requester", "cidr": cidr, "ip": str(requester)}
    return None


REFUSALS = {
    "not_routable": "The address is not one a client can have (unspecified or link-local).",
    "too_wide": "The range is wider than /{widest_prefix}: one entry would block too many clients.",
    "contains_loopback": "The range holds a loopback address ({loopback}).",
    "contains_trusted_proxy": "The range holds a trusted proxy ({proxy}): every client behind it would be blocked.",
    "contains_requester": "The range holds your own address ({ip}): you would lock yourself out.",
}


def check_blacklist_entry(cidr: str, *, requester_ip: str | None = None) -> str:
    """The entry's canonical text, or ``BlacklistRefused`` (422) saying why it may not be blocked.

    ``requester_ip`` defaults to the current request's client IP (``nexus.context``). ValueError if ``cidr``
    is not an address or range.
    """
    network = normalize_network(cidr)
    refusal = blacklist_refusal(network, requester_ip=requester_ip or current_request().ip)
    if refusal is not None:
        raise BlacklistRefused(REFUSALS[refusal["reason"]].format(**refusal), details=refusal)
    return str(network)


@transaction.atomic
def block_ip(*, cidr: str, reason: str, created_by, requester_ip: str | None = None) -> BlockedIP:
    """Block a range; one that is already blocked, even by a request committed a moment ago, is a 400; one that
    could lock the bank out (:func:`blacklist_refusal`) is a 422 ``blacklist_refused``."""
    cidr = check_blacklist_entry(cidr, requester_ip=requester_ip)
    try:
        with transaction.atomic():
            blocked = BlockedIP.objects.create(cidr=cidr, reason=reason, created_by=created_by)
    except IntegrityError as exc:  # the unique cidr: another analyst's identical entry won
        raise InvalidInput(f"cidr: {ALREADY_BLOCKED}", details={"cidr": [ALREADY_BLOCKED]}) from exc
    audit(actor=created_by, action=AuditAction.BLACKLIST_ADD, object_type="blacklist", object_id=blocked.pk,
          changes={"cidr": [None, blocked.cidr], "reason": [None, reason]})
    return blocked


@transaction.atomic
def unblock_ip(*, blocked: BlockedIP, by) -> None:
    audit(actor=by, action=AuditAction.BLACKLIST_REMOVE, object_type="blacklist", object_id=blocked.pk,
          changes={"cidr": [blocked.cidr, None], "reason": [blocked.reason, None]})
    blocked.delete()


@transaction.atomic
def set_incident_status(*, incident: Incident, status: str, note: str, by) -> Incident:
    before = {"status": incident.status, "note": incident.note}
    incident.status = status
    if note:
        incident.note = f"{incident.note}\n{note}".strip() if incident.note else note
    incident.status_changed_by = by
    incident.status_changed_at = timezone.now()
    incident.save(update_fields=["status", "note", "status_changed_by", "status_changed_at"])
    audit(actor=by, action=AuditAction.INCIDENT_UPDATE, object_type="incident", object_id=incident.pk,
          changes=diff(before, {"status": incident.status, "note": incident.note}))
    return incident


# --- lockouts --------------------------------------------------------------------------------

def current_lockouts():
    """The (email, IP) pairs locked out now: axes' count reached the limit within the cool-off period."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    return LoginLockout.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since)


def lockout_by_pk(pk) -> LoginLockout | None:
    return LoginLockout.objects.filter(pk=pk).first()


def locked_until(lockout: LoginLockout):
    return lockout.attempt_time + settings.AXES_COOLOFF_TIME


@transaction.atomic
def lockout_unlock(*, actor: User, email: str, ip: str | None = None, reason: str) -> int:
    """Clear the failed logins of ``email`` from ``ip`` (from every address if None): the pair can log in again
    at once. Audited (``lockout_unlock``, object ``lockout``, id the email); returns how many pairs it cleared.

    axes keys a lockout on the email and the IP (``AXES_LOCKOUT_PARAMETERS``), the email as
    ``risk.lockout.login_username`` gives it (trimmed, lower-cased). Staff do not unlock their own email.
    """
    email, reason = (email or "").strip().lower(), (reason or "").strip()
    if not email or not reason:
        missing = {name: ["This field is required."] for name, value in (("email", email), ("reason", reason))
                   if not value}
        raise InvalidInput(f"{', '.join(missing)}: This field is required.", details=missing)
    refuse_own(actor, user_id=User.objects.filter(email=email).values_list("pk", flat=True).first())
    attempts = LoginLockout.objects.select_for_update().filter(username=email)
    if ip is not None:
        attempts = attempts.filter(ip_address=normalize_ip(ip) or ip)
    cleared = {attempt.pk: (attempt.ip_address, attempt.failures_since_start) for attempt in attempts}
    if not cleared:
        raise NotFound("No failed logins to clear for this email" + (f" from {ip}." if ip is not None else "."))
    LoginLockout.objects.filter(pk__in=cleared).delete()
    audit(actor=actor, action=AuditAction.LOCKOUT_UNLOCK, object_type="lockout", object_id=email,
          changes={"ip": [sorted(str(address) for address, _ in cleared.values()), None],
                   "failures": [sum(count for _, count in cleared.values()), 0], "reason": [None, reason]})
    return len(cleared)
