"""The client's IP and country, believing forwarded headers only from trusted proxies.

Every address the app compares or stores goes through ``normalize_ip`` / ``normalize_network``
here: an IPv4-mapped IPv6 address (``::ffff:203.0.113.7``, what a dual-stack socket reports for an
IPv4 client) is that IPv4 address, so blacklist entries, throttles, lockouts and login events
all see one address per client.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

_MAPPED = ipaddress.ip_network("::ffff:0:0/96")


def parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address (IPv4-mapped IPv6 as IPv4), or None if it is not one.

    Remembered per text (the addresses are immutable values): a request parses its peer's address several
    times (its client address, the trusted-proxy test, the blacklist), each parse about 3 us. A text longer
    than any address (a forwarded hop may be 8 KB) is parsed but not remembered.
    """
    return _parse_ip(value) if len(value) <= _LONGEST_ADDRESS else _parse_ip.__wrapped__(value)


_LONGEST_ADDRESS = 64  # an IPv6 address with an embedded IPv4 one is 45 characters; a zone id or spaces add a few


@lru_cache(maxsize=4096)
def _parse_ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


def normalize_ip(value: str) -> str | None:
    """The canonical text of an address (IPv4-mapped IPv6 as IPv4), or None if it is not one."""
    address = parse_ip(value)
    return None if address is None else str(address)


def normalize_network(spec: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """An address or CIDR range; one inside ``::ffff:0:0/96`` is the IPv4 range it maps. ValueError if invalid."""
    network = ipaddress.ip_network(spec.strip(), strict=False)
    if network.version == 6 and network.prefixlen >= _MAPPED.prefixlen and network.subnet_of(_MAPPED):
        return ipaddress.ip_network((network.network_address.ipv4_mapped, network.prefixlen - _MAPPED.prefixlen))
    return network


@lru_cache(maxsize=1)
def _trusted_networks(spec: tuple[str, ...]):
    return tuple(normalize_network(item) for item in spec if item.strip())


def _is_trusted(ip: str) -> bool:
    address = parse_ip(ip)
    return address is not None and any(address in network for network in _trusted_networks(tuple(settings.TRUSTED_PROXIES)))


def peer_is_trusted_proxy(request) -> bool:
    """Whether the direct peer (the socket address) is one of TRUSTED_PROXIES."""
    meta = getattr(request, "META", request)
    return _is_trusted(meta.get("REMOTE_ADDR", ""))


def client_ip(request) -> str:
    """REMOTE_ADDR, or, when that peer is a trusted proxy, the right-most untrusted X-Forwarded-For hop."""
    meta = getattr(request, "META", request)
    cached = meta.get("nexus.client_ip")
    if cached:
        return cached
    peer = normalize_ip(meta.get("REMOTE_ADDR", "")) or "0.0.0.0"  # noqa: S104 - a placeholder, never bound
    ip = peer
    if _is_trusted(peer):
        hops = [hop for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        for hop in reversed(hops):
            candidate = normalize_ip(hop)
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
    if peer_is_trusted_proxy(meta):
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


def geoip_available() -> bool:
    """Whether GEOIP_DATABASE names a country database that opens."""
    return _geoip_reader(getattr(settings, "GEOIP_DATABASE", "")) is not None


def geoip_country(ip: str) -> str:
    reader = _geoip_reader(getattr(settings, "GEOIP_DATABASE", ""))
    if reader is None:
        return ""
    try:
        return (reader.country(ip).country.iso_code or "").upper()
    except Exception:  # noqa: BLE001 - address not in the database, private ranges
        return ""
