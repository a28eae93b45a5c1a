"""Which API server and registry addresses the dashboard will talk to.

Only https (http to loopback in DEBUG), never link-local or cloud metadata addresses, in any
of the spellings getaddrinfo() accepts, and only allow-listed hosts when an allow-list is set.
No DNS lookups: names are judged as written.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from accounts.errors import KubeconfigError

# Instance metadata services hand out cloud credentials to anything on the node that asks;
# a cluster "server" pointing there would turn the dashboard into a credential thief.
_METADATA_HOST_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.tencentyun.com",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_FORBIDDEN_NETWORKS = (
    ipaddress.ip_network("169.254.0.0/16"),  # IPv4 link-local: AWS, GCE, Azure, TKE metadata
    ipaddress.ip_network("fe80::/10"),  # IPv6 link-local
    ipaddress.ip_network("fd00:ec2::254/128"),  # AWS metadata over IPv6
    ipaddress.ip_network("100.100.100.200/32"),  # Alibaba Cloud metadata
)
_NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")
HOST_NAME_RE = re.compile(
    r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$"
)
# Things getaddrinfo() would read as an IPv4 address ("2852039166", "0xa9.0xfe.0xa9.0xfe",
# "0251.0376.0251.0376"): refused unless in plain dotted form, so the checks see the real target.
_NUMERIC_HOST_RE = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+))*$")


def validate_api_server_url(url: str) -> str:
    """Check a Kubernetes API server address and return it normalised."""
    url = url.strip() if isinstance(url, str) else ""
    if not url:
        raise KubeconfigError(_("The API server address is empty."))
    if any(ord(char) <= 0x20 or ord(char) == 0x7F or char == "\\" for char in url):
        raise KubeconfigError(
            _('The API server address "%(url)s" contains spaces or control characters.')
            % {"url": url}
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise KubeconfigError(
            _('The API server address "%(url)s" is not a valid URL.') % {"url": url}
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise KubeconfigError(
            _('The API server address "%(url)s" must start with https:// and name a host.')
            % {"url": url}
        )
    if parts.username is not None or parts.password is not None:
        raise KubeconfigError(
            _(
                "The API server address must not contain a user name or password; "
                "give credentials separately."
            )
        )
    if parts.query or parts.fragment:
        raise KubeconfigError(
            _('The API server address "%(url)s" must not have a query or fragment.') % {"url": url}
        )
    host = _normalise_host(parts.hostname)
    refuse_link_local_or_metadata(host)
    if scheme == "http" and not (settings.DEBUG and _is_loopback(host)):
        raise KubeconfigError(
            _(
                'The API server address "%(url)s" must use https:// '
                "(http:// is allowed only to this machine in development)."
            )
            % {"url": url}
        )
    _check_allow_list(host)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != (443 if scheme == "https" else 80):
        netloc = f"{netloc}:{port}"
    return f"{scheme}://{netloc}{parts.path.rstrip('/')}"


def refuse_link_local_or_metadata(host: str) -> None:
    """Raise KubeconfigError when a host is link-local, a metadata service, or unusable.

    Only literal addresses and well-known metadata names are checked: no DNS lookup is done.
    """
    host = _normalise_host(host)
    if host in _METADATA_HOST_NAMES:
        raise KubeconfigError(
            _('"%(host)s" is a cloud metadata service, not a Kubernetes API server.')
            % {"host": host}
        )
    address = _literal_address(host)
    if address is None:
        return
    for candidate in _embedded_addresses(address):
        if candidate.is_unspecified or candidate.is_multicast:
            raise KubeconfigError(_('"%(host)s" is not a usable address.') % {"host": host})
        if any(candidate in network for network in _FORBIDDEN_NETWORKS):
            raise KubeconfigError(
                _('"%(host)s" is a link-local or cloud metadata address and cannot be used.')
                % {"host": host}
            )


def _normalise_host(host: str) -> str:
    host = host.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host).compressed
        except ValueError:
            # Zone ids and malformed addresses are judged by _literal_address().
            return host
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise KubeconfigError(_('"%(host)s" is not a valid host name.') % {"host": host}) from None
    if not host or not HOST_NAME_RE.match(host):
        raise KubeconfigError(_('"%(host)s" is not a valid host name.') % {"host": host})
    return host


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if ":" in host:
        if "%" in host:
            # Zone ids only make sense for link-local addresses, which are refused anyway.
            raise KubeconfigError(
                _('"%(host)s" is a link-local or cloud metadata address and cannot be used.')
                % {"host": host}
            )
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise KubeconfigError(
                _('"%(host)s" is not a valid address.') % {"host": host}
            ) from None
    if not _NUMERIC_HOST_RE.match(host):
        return None
    try:
        return ipaddress.IPv4Address(host)
    except ValueError:
        pass
    try:
        socket.inet_aton(host)
    except OSError:
        return None
    raise KubeconfigError(
        _(
            '"%(host)s" looks like an IP address in an unusual form; write it as four decimal '
            "numbers separated by dots."
        )
        % {"host": host}
    )


def _embedded_addresses(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The address itself and any IPv4 address it tunnels to (mapped, 6to4, NAT64)."""
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        for embedded in (address.ipv4_mapped, address.sixtofour):
            if embedded is not None:
                found.append(embedded)
        if address in _NAT64_PREFIX:
            found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_allow_list(host: str) -> None:
    patterns = [
        _normalise_pattern(pattern)
        for pattern in getattr(settings, "REGCRED_ALLOWED_API_HOSTS", None) or []
        if pattern.strip()
    ]
    if not patterns:
        return
    for pattern in patterns:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]):
                return
        elif host == pattern:
            return
    raise KubeconfigError(
        _('The API server "%(host)s" is not in the list of hosts this dashboard may connect to.')
        % {"host": host}
    )


def _normalise_pattern(pattern: str) -> str:
    pattern = pattern.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")
    try:
        return ipaddress.IPv6Address(pattern).compressed
    except ValueError:
        return pattern
