from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.utils.module_loading import import_string

from nexus.client_ip import geoip_available, normalize_network

from .detectors import Detector
from .detectors.impossible_travel import ImpossibleTravel
from .registry import TRIGGERS, detector_paths


@register()
def check_detectors(app_configs=None, **kwargs):
    """settings.RISK_DETECTORS must name Detector classes with a code, an event and a known trigger."""
    errors = []
    codes = set()
    for path in detector_paths():
        try:
            cls = import_string(path)
        except ImportError as exc:
            errors.append(Error(f"Cannot import risk detector {path!r}: {exc}", id="risk.E001"))
            continue
        if not (isinstance(cls, type) and issubclass(cls, Detector)):
            errors.append(Error(f"{path!r} is not a risk.detectors.Detector subclass.", id="risk.E002"))
            continue
        if not cls.code or not cls.event or cls.trigger not in TRIGGERS:
            errors.append(Error(f"{path!r} needs a code, an event and a trigger in {sorted(TRIGGERS)}.",
                                id="risk.E003"))
        if cls.severity not in {"low", "medium", "high", "critical"}:
            errors.append(Error(f"{path!r} has an unknown severity {cls.severity!r}.", id="risk.E004"))
        if cls.code in codes:
            errors.append(Error(f"Two risk detectors use the code {cls.code!r}.", id="risk.E005"))
        codes.add(cls.code)
    return errors


def _detector_enabled(base: type) -> bool:
    for path in detector_paths():
        try:
            cls = import_string(path)
        except ImportError:
            continue  # reported by check_detectors
        if isinstance(cls, type) and issubclass(cls, base):
            return True
    return False


@register()
def check_country_source(app_configs=None, **kwargs):
    """impossible_travel compares login countries: without GeoIP only a trusted proxy's CF-IPCountry gives one."""
    if not _detector_enabled(ImpossibleTravel) or geoip_available():
        return []
    if settings.GEOIP_DATABASE:
        problem = f"GEOIP_DATABASE ({settings.GEOIP_DATABASE!r}) cannot be opened as a GeoIP2 country database"
    else:
        problem = "GEOIP_DATABASE is not set"
    return [Warning(
        f"{problem}: the impossible_travel rule can only fire for logins whose country a trusted proxy sends "
        "(CF-IPCountry from a peer in TRUSTED_PROXIES); for any other login it never fires.",
        hint="Set GEOIP_DATABASE to a MaxMind GeoLite2 Country file, or, if your proxy sends CF-IPCountry, "
             "silence this check: DJANGO_SILENCED_SYSTEM_CHECKS=risk.W001.",
        id="risk.W001",
    )]


def _trusted_networks() -> tuple[list, list[str]]:
    networks, invalid = [], []
    for spec in settings.TRUSTED_PROXIES:
        if not spec.strip():
            continue
        try:
            networks.append(normalize_network(spec))
        except ValueError:
            invalid.append(spec)
    return networks, invalid


@register()
def check_trusted_proxies(app_configs=None, **kwargs):
    _, invalid = _trusted_networks()
    return [Error(f"TRUSTED_PROXIES entry {spec!r} is not an IP address or CIDR range.", id="risk.E006")
            for spec in invalid]


@register(Tags.security, deploy=True)
def check_proxy_trust(app_configs=None, **kwargs):
    """Behind a TLS proxy the app does not trust, every client has the proxy's address."""
    networks, _ = _trusted_networks()
    if not settings.SECURE_PROXY_SSL_HEADER or any(not network.is_loopback for network in networks):
        return []
    return [Warning(
        "SECURE_PROXY_SSL_HEADER says a TLS proxy is in front of the app, but TRUSTED_PROXIES lists only "
        "loopback addresses. Unless that proxy runs on this host, every client will have the proxy's "
        "address: one client's failed logins lock everyone out, one blacklist entry blocks everyone, one "
        "client's traffic throttles all; and X-Forwarded-Proto is ignored, so HTTPS requests are redirected "
        "to HTTPS again.",
        hint="Set TRUSTED_PROXIES to the proxy's addresses (IPs or CIDR ranges). If the proxy does run on this "
             "host, silence this check: DJANGO_SILENCED_SYSTEM_CHECKS=risk.W002.",
        id="risk.W002",
    )]


@register()
def check_environment_blacklist(app_configs=None, **kwargs):
    """RISK_BLACKLISTED_IPS obeys the rule of every blacklist entry (risk.services.blacklist_refusal): an entry
    that could lock the bank out is refused here, and ignored by the blacklist if the app starts anyway."""
    from .services import blacklist_refusal

    errors = []
    for spec in settings.RISK_BLACKLISTED_IPS:
        try:
            refusal = blacklist_refusal(normalize_network(spec))
        except ValueError:
            errors.append(Error(f"RISK_BLACKLISTED_IPS entry {spec!r} is not an IP address or CIDR range.",
                                id="risk.E007"))
            continue
        if refusal is not None:
            errors.append(Error(
                f"RISK_BLACKLISTED_IPS entry {spec!r} could lock the bank out ({refusal['reason']}): no entry may be "
                "wider than /16 (IPv4) or /48 (IPv6) or hold a loopback address or a trusted proxy.",
                hint="Remove it or narrow it; it is ignored until then.", id="risk.E008"))
    return errors
