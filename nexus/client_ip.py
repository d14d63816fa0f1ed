"""The client's IP and country, believing forwarded headers only from trusted proxies."""

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=1)
def _trusted_networks(spec: tuple[str, ...]):
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in spec if item.strip())


def _is_trusted(ip: str) -> bool:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address in network for network in _trusted_networks(tuple(settings.TRUSTED_PROXIES)))


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request) -> str:
    """REMOTE_ADDR, or, when that peer is a trusted proxy, the right-most untrusted X-Forwarded-For hop."""
    meta = getattr(request, "META", request)
    cached = meta.get("nexus.client_ip")
    if cached:
        return cached
    peer = meta.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104 - a placeholder, never bound
    ip = peer
    if _is_trusted(peer):
        hops = [hop for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        for hop in reversed(hops):
            candidate = _valid_ip(hop)
            if candidate is None:
                break
            ip = candidate
            if not _is_trusted(candidate):
                break
    meta["nexus.client_ip"] = ip
    return ip


def client_country(request) -> str:
    """CF-IPCountry from a trusted proxy, else the GeoIP database if configured, else ''."""
    meta = getattr(request, "META", request)
    peer = meta.get("REMOTE_ADDR", "")
    if _is_trusted(peer):
        header = meta.get("HTTP_CF_IPCOUNTRY", "").strip().upper()
        if len(header) == 2 and header.isascii() and header.isalpha() and header not in {"XX", "T1"}:
            return header
    return geoip_country(client_ip(request))


@lru_cache(maxsize=1)
def _geoip_reader(path: str):
    if not path:
        return None
    try:
        import geoip2.database

        return geoip2.database.Reader(path)
    except (ImportError, OSError, ValueError):
        return None


def geoip_country(ip: str) -> str:
    reader = _geoip_reader(getattr(settings, "GEOIP_DATABASE", ""))
    if reader is None:
        return ""
    try:
        return (reader.country(ip).country.iso_code or "").upper()
    except Exception:  # noqa: BLE001 - address not in the database, private ranges
        return ""
