"""Who is asking: the client's address behind our own proxy, and who may read /metrics.

The address is the socket's peer, unless that peer is a proxy we trust (FORWARDED_ALLOW_IPS, as
gunicorn is told): then the last address the proxy appended to X-Forwarded-For, which the client
cannot forge (whatever it sent comes before it). /metrics and the admin's lockout (django-axes)
both use it, so a deployment behind nginx neither lets the world in as the proxy nor locks
everyone out as one address.
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(request: HttpRequest) -> str:
    peer = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and _in(peer, settings.TRUSTED_PROXIES):
        last = forwarded.split(",")[-1].strip()
        if _address(last) is not None:
            return last
    return peer


def may_read_metrics(request: HttpRequest) -> bool:
    """From an allowed address (METRICS_ALLOWED_IPS), or with `Authorization: Bearer
    <METRICS_TOKEN>` (compared in constant time)."""
    if _in(client_ip(request), settings.METRICS_ALLOWED_IPS):
        return True
    token = settings.METRICS_TOKEN
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(given, token)


def _in(address: str, networks: list[IPNetwork] | None) -> bool:
    """Whether `address` is in one of `networks`; None means any address."""
    if networks is None:
        return True
    ip = _address(address)
    return ip is not None and any(ip in network for network in networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
