"""The client's address. Behind a reverse proxy every request comes from the proxy, and the
client's address is in X-Forwarded-For, which anyone can write. The header is read only when
the direct peer is a proxy the operator declared (``QINGHE_TRUSTED_PROXIES``, addresses or
CIDR networks); then the client is the right-most address in the header that is not itself a
trusted proxy. Used by the sign-in lockout (django-axes ``AXES_CLIENT_IP_CALLABLE``) and the
audit trail."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def trusted_proxies() -> tuple[Network, ...]:
    return _networks(tuple(getattr(settings, "QINGHE_TRUSTED_PROXIES", ())))


def _is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    peer = request.META.get("REMOTE_ADDR") or None
    networks = trusted_proxies()
    if peer is None or not networks or not _is_trusted(peer, networks):
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            # a garbled entry: nothing to its left can be trusted; the last good hop stands
            break
        client = hop
        if not _is_trusted(hop, networks):
            break
    return client


def axes_client_ip(request: HttpRequest) -> str | None:
    """``AXES_CLIENT_IP_CALLABLE``: the lockout counts per real client, not per proxy."""
    return client_ip(request)
