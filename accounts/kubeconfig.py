"""Strict kubeconfig validation shared by the onboarding form and the command line.

A kubeconfig is accepted only when every context can be used from this server with the data in
the file alone: no exec plugins, no auth providers, no paths to files on the server, no
impersonation, and API servers that are ``https://`` hosts outside link-local and cloud metadata
ranges (plus the operator's allow-list, when set). Anything else refuses the whole file with a
message that names the offending entry. Nothing is written to disk.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import ipaddress
import json
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.utils.translation import gettext as _

MAX_KUBECONFIG_BYTES = 256 * 1024
# A kubeconfig of a few hundred clusters has a few thousand nodes; these bounds leave ample
# room while stopping alias bombs ("billion laughs") before PyYAML constructs anything.
MAX_EXPANDED_NODES = 100_000
MAX_EXPANDED_CHARS = 4 * 1024 * 1024
MAX_NESTING_DEPTH = 64

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
_HOST_NAME_RE = re.compile(
    r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$"
)
# Things getaddrinfo() would read as an IPv4 address ("2852039166", "0xa9.0xfe.0xa9.0xfe",
# "0251.0376.0251.0376"): refused unless in plain dotted form, so the checks see the real target.
_NUMERIC_HOST_RE = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+))*$")
_NAMESPACE_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_TOKEN_RE = re.compile(r"^[\x21-\x7e]+$")

_IMPERSONATION_KEYS = ("as", "as-uid", "as-groups", "as-user-extra")


class KubeconfigError(Exception):
    """A kubeconfig, API server address or certificate that cannot be accepted."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class KubeContext:
    """One usable context: a cluster connection with all its data inline."""

    name: str
    cluster_name: str
    server: str
    ca_pem: str | None
    insecure_skip_tls_verify: bool
    # Secret material stays out of repr() so a logged context never leaks it.
    token: str | None = dataclasses.field(repr=False)
    client_cert_pem: str | None = dataclasses.field(repr=False)
    client_key_pem: str | None = dataclasses.field(repr=False)
    username: str | None
    password: str | None = dataclasses.field(repr=False)
    namespace: str | None
    # The name the server's certificate carries when we dial an address (TKE endpoints).
    tls_server_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict for encrypted storage."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> KubeContext:
        """Rebuild a context stored with :meth:`to_dict`; unknown keys are ignored."""
        missing = [key for key in ("name", "cluster_name", "server") if not d.get(key)]
        if missing:
            raise ValueError(f"stored kube context lacks {', '.join(missing)}")
        values = {f.name: d.get(f.name) for f in dataclasses.fields(cls)}
        values["insecure_skip_tls_verify"] = bool(values["insecure_skip_tls_verify"])
        return cls(**values)


@dataclass(frozen=True)
class ValidatedKubeconfig:
    """The usable contexts of an accepted kubeconfig, plus warnings to show the person."""

    contexts: list[KubeContext]
    current_context: str | None
    warnings: list[str]


@dataclass(frozen=True)
class _Cluster:
    server: str
    ca_pem: str | None
    insecure: bool
    tls_server_name: str | None = None


@dataclass(frozen=True)
class _User:
    token: str | None
    client_cert_pem: str | None
    client_key_pem: str | None
    username: str | None
    password: str | None


# --- Public API --------------------------------------------------------------------------


def validate_kubeconfig(data: str | bytes) -> ValidatedKubeconfig:
    """Parse and check a kubeconfig; return its contexts or raise KubeconfigError."""
    document = _load_document(_decode(data))
    if not isinstance(document, dict):
        raise KubeconfigError(_("The kubeconfig is not a mapping of clusters, users and contexts."))
    warnings: list[str] = []
    clusters = {
        name: _validate_cluster(name, body, warnings)
        for name, body in _named_entries(document, "clusters", "cluster")
    }
    users = {
        name: _validate_user(name, body) for name, body in _named_entries(document, "users", "user")
    }
    contexts = [
        _validate_context(name, body, clusters, users)
        for name, body in _named_entries(document, "contexts", "context")
    ]
    current = document.get("current-context") or None
    if current is not None and current not in {context.name for context in contexts}:
        raise KubeconfigError(
            _('current-context "%(name)s" is not one of the contexts in the file.')
            % {"name": current}
        )
    return ValidatedKubeconfig(contexts=contexts, current_context=current, warnings=warnings)


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


def parse_ca_certificate(text: str) -> str:
    """Read a CA bundle given as PEM, base64 of PEM, or base64 of DER; return PEM."""
    text = text.strip() if isinstance(text, str) else ""
    if not text or len(text) > MAX_KUBECONFIG_BYTES:
        raise KubeconfigError(_("The CA certificate is empty or too large."))
    problem = _("The CA certificate is not a PEM certificate, base64 of one, or base64 DER.")
    if "-----BEGIN" in text:
        return _pem_certificates(text.encode("utf-8"), problem)
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise KubeconfigError(problem) from None
    if b"-----BEGIN" in raw:
        return _pem_certificates(raw, problem)
    try:
        certificate = x509.load_der_x509_certificate(raw)
    except ValueError:
        raise KubeconfigError(problem) from None
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def service_account_context(
    *, server: str, token: str, ca: str, name: str = "service-account"
) -> KubeContext:
    """Build a context from the service-account form, with the kubeconfig's URL and CA rules."""
    normalised = validate_api_server_url(server)
    token = token.strip() if isinstance(token, str) else ""
    if not token:
        raise KubeconfigError(_("The service-account token is empty."))
    if not _TOKEN_RE.match(token):
        raise KubeconfigError(_("The service-account token contains spaces or control characters."))
    ca_pem = parse_ca_certificate(ca) if ca and ca.strip() else None
    return KubeContext(
        name=name,
        cluster_name=name,
        server=normalised,
        ca_pem=ca_pem,
        insecure_skip_tls_verify=False,
        token=token,
        client_cert_pem=None,
        client_key_pem=None,
        username=None,
        password=None,
        namespace=None,
    )


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


# --- Loading -----------------------------------------------------------------------------


def _decode(data: str | bytes) -> str:
    if isinstance(data, str):
        # surrogateescape-decoded input would carry lone surrogates that are not UTF-8.
        try:
            raw = data.encode("utf-8")
        except UnicodeEncodeError:
            raise KubeconfigError(_("The kubeconfig is not UTF-8 text.")) from None
    else:
        raw = bytes(data)
    if len(raw) > MAX_KUBECONFIG_BYTES:
        raise KubeconfigError(
            _("The kubeconfig is larger than %(limit)d KiB.")
            % {"limit": MAX_KUBECONFIG_BYTES // 1024}
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise KubeconfigError(_("The kubeconfig is not UTF-8 text.")) from None
    if not text.strip():
        raise KubeconfigError(_("The kubeconfig is empty."))
    return text


def _load_document(text: str) -> Any:
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise KubeconfigError(
                _(
                    "The kubeconfig is not valid JSON "
                    "(line %(line)d, column %(column)d: %(problem)s)."
                )
                % {"line": error.lineno, "column": error.colno, "problem": error.msg}
            ) from None
        except RecursionError:
            raise KubeconfigError(_("The kubeconfig is nested too deeply.")) from None
    try:
        return yaml.load(text, Loader=_BoundedLoader)  # noqa: S506 - a SafeLoader subclass
    except _TooLarge as error:
        raise KubeconfigError(error.message) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        if mark is not None:
            raise KubeconfigError(
                _("The kubeconfig is neither JSON nor valid YAML (line %(line)d: %(problem)s).")
                % {"line": mark.line + 1, "problem": problem}
            ) from None
        raise KubeconfigError(
            _("The kubeconfig is neither JSON nor valid YAML (%(problem)s).") % {"problem": problem}
        ) from None
    except RecursionError:
        raise KubeconfigError(_("The kubeconfig is nested too deeply.")) from None


class _TooLarge(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses deep nesting and documents whose aliases expand too far.

    Composing a YAML document keeps each anchored node once however often it is aliased, so
    the expanded size can be measured on the node graph before anything is constructed.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        self._depth += 1
        try:
            if self._depth > MAX_NESTING_DEPTH:
                raise _TooLarge(_("The kubeconfig is nested too deeply."))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self) -> yaml.Node:
        node = super().compose_document()
        _check_expanded_size(node)
        return node


def _check_expanded_size(root: yaml.Node) -> None:
    """Measure what the node graph would expand to, without recursion or expansion."""
    too_large = _("The kubeconfig expands to more data than any kubeconfig needs (YAML aliases).")
    sizes: dict[int, tuple[int, int]] = {}
    in_progress: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        children = _child_nodes(node)
        if finished:
            in_progress.discard(key)
            nodes, chars = 1, len(node.value) if isinstance(node, yaml.ScalarNode) else 0
            for child in children:
                child_nodes, child_chars = sizes[id(child)]
                nodes += child_nodes
                chars += child_chars
            if nodes > MAX_EXPANDED_NODES or chars > MAX_EXPANDED_CHARS:
                raise _TooLarge(too_large)
            sizes[key] = (nodes, chars)
            continue
        if key in sizes:
            continue
        if key in in_progress:
            raise _TooLarge(_("The kubeconfig contains a YAML alias that refers to itself."))
        in_progress.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)


def _child_nodes(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


# --- Structure ---------------------------------------------------------------------------


def _named_entries(
    document: dict[str, Any], section: str, body_key: str
) -> Iterable[tuple[str, dict[str, Any]]]:
    entries = document.get(section)
    if not isinstance(entries, list) or not entries:
        raise KubeconfigError(
            _('The kubeconfig has no "%(section)s" list, or it is empty.') % {"section": section}
        )
    seen: set[str] = set()
    result = []
    for position, entry in enumerate(entries, start=1):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise KubeconfigError(
                _('Entry %(position)d under "%(section)s" has no name.')
                % {"position": position, "section": section}
            )
        if name in seen:
            raise KubeconfigError(
                _('The name "%(name)s" appears more than once under "%(section)s".')
                % {"name": name, "section": section}
            )
        seen.add(name)
        body = entry.get(body_key)
        if not isinstance(body, dict):
            raise KubeconfigError(
                _('Entry "%(name)s" under "%(section)s" has no "%(key)s" mapping.')
                % {"name": name, "section": section, "key": body_key}
            )
        result.append((name, body))
    return result


def _validate_cluster(name: str, body: dict[str, Any], warnings: list[str]) -> _Cluster:
    if "certificate-authority" in body:
        raise KubeconfigError(
            _(
                'Cluster "%(name)s" refers to a file on this server (certificate-authority); '
                "paste the certificate as certificate-authority-data instead."
            )
            % {"name": name}
        )
    server = body.get("server")
    if not isinstance(server, str) or not server.strip():
        raise KubeconfigError(_('Cluster "%(name)s" has no server address.') % {"name": name})
    try:
        normalised = validate_api_server_url(server)
    except KubeconfigError as error:
        raise KubeconfigError(
            _('Cluster "%(name)s": %(problem)s') % {"name": name, "problem": error.message}
        ) from None
    insecure = body.get("insecure-skip-tls-verify", False)
    if not isinstance(insecure, bool):
        raise KubeconfigError(
            _('Cluster "%(name)s": insecure-skip-tls-verify must be true or false.')
            % {"name": name}
        )
    ca_pem = None
    if body.get("certificate-authority-data"):
        if insecure:
            # kubectl refuses this combination too: which of the two was meant is unclear.
            raise KubeconfigError(
                _(
                    'Cluster "%(name)s" sets both certificate-authority-data and '
                    "insecure-skip-tls-verify; keep only one."
                )
                % {"name": name}
            )
        raw = _base64_field(body, "certificate-authority-data", _("Cluster"), name)
        ca_pem = _pem_certificates(
            raw,
            _('Cluster "%(name)s": certificate-authority-data is not a PEM certificate.')
            % {"name": name},
        )
    if insecure:
        warnings.append(
            _(
                'Cluster "%(name)s" skips TLS verification (insecure-skip-tls-verify); '
                "its identity cannot be checked."
            )
            % {"name": name}
        )
    if body.get("proxy-url"):
        warnings.append(
            _(
                'Cluster "%(name)s" sets %(key)s, which the dashboard ignores; '
                "it connects to the server address directly."
            )
            % {"name": name, "key": "proxy-url"}
        )
    tls_server_name = body.get("tls-server-name") or None
    if tls_server_name is not None and (
        not isinstance(tls_server_name, str) or not _HOST_NAME_RE.match(tls_server_name.lower())
    ):
        raise KubeconfigError(
            _('Cluster "%(name)s": tls-server-name "%(value)s" is not a host name.')
            % {"name": name, "value": tls_server_name}
        )
    return _Cluster(
        server=normalised, ca_pem=ca_pem, insecure=insecure, tls_server_name=tls_server_name
    )


def _validate_user(name: str, body: dict[str, Any]) -> _User:
    _refuse_unusable_user_fields(name, body)
    token = body.get("token")
    if token is not None:
        token = token.strip() if isinstance(token, str) else ""
        if not token or not _TOKEN_RE.match(token):
            raise KubeconfigError(
                _(
                    'User "%(name)s" has a token that is empty or contains spaces or control '
                    "characters."
                )
                % {"name": name}
            )
    cert_pem, key_pem = _client_certificate(name, body)
    username, password = body.get("username"), body.get("password")
    has_basic = username is not None or password is not None
    if has_basic and not (
        isinstance(username, str) and username and isinstance(password, str) and password
    ):
        raise KubeconfigError(
            _('User "%(name)s" must give both a username and a password, or neither.')
            % {"name": name}
        )
    if not (token or cert_pem or username):
        raise KubeconfigError(
            _(
                'User "%(name)s" has no credentials: give a token, a client certificate and key, '
                "or a username and password inline."
            )
            % {"name": name}
        )
    return _User(
        token=token or None,
        client_cert_pem=cert_pem,
        client_key_pem=key_pem,
        username=username,
        password=password,
    )


def _refuse_unusable_user_fields(name: str, body: dict[str, Any]) -> None:
    if "exec" in body:
        raise KubeconfigError(
            _('User "%(name)s" runs a command (exec plugin); only inline credentials are accepted.')
            % {"name": name}
        )
    if "auth-provider" in body:
        raise KubeconfigError(
            _('User "%(name)s" uses an auth provider plugin; only inline credentials are accepted.')
            % {"name": name}
        )
    for key, inline in (
        ("tokenFile", "token"),
        ("token-file", "token"),
        ("client-certificate", "client-certificate-data"),
        ("client-key", "client-key-data"),
    ):
        if key in body:
            raise KubeconfigError(
                _(
                    'User "%(name)s" refers to a file on this server (%(key)s); paste the content '
                    "as %(inline)s instead."
                )
                % {"name": name, "key": key, "inline": inline}
            )
    for key in _IMPERSONATION_KEYS:
        if key in body:
            # Dropping impersonation would act with the underlying, usually wider, identity.
            raise KubeconfigError(
                _(
                    'User "%(name)s" impersonates another identity (%(key)s), which is not '
                    "supported."
                )
                % {"name": name, "key": key}
            )


def _client_certificate(name: str, body: dict[str, Any]) -> tuple[str | None, str | None]:
    has_cert, has_key = bool(body.get("client-certificate-data")), bool(body.get("client-key-data"))
    if not has_cert and not has_key:
        return None, None
    if not (has_cert and has_key):
        raise KubeconfigError(
            _('User "%(name)s" needs both client-certificate-data and client-key-data.')
            % {"name": name}
        )
    cert_raw = _base64_field(body, "client-certificate-data", _("User"), name)
    key_raw = _base64_field(body, "client-key-data", _("User"), name)
    try:
        certificates = x509.load_pem_x509_certificates(cert_raw)
    except ValueError:
        raise KubeconfigError(
            _('User "%(name)s": client-certificate-data is not a PEM certificate.') % {"name": name}
        ) from None
    try:
        key = serialization.load_pem_private_key(key_raw, password=None)
    except (ValueError, TypeError):
        raise KubeconfigError(
            _('User "%(name)s": client-key-data is not an unencrypted PEM private key.')
            % {"name": name}
        ) from None
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if certificates[0].public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise KubeconfigError(
            _('User "%(name)s": the client certificate and key do not belong together.')
            % {"name": name}
        )
    cert_pem = "".join(
        certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
        for certificate in certificates
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return cert_pem, key_pem


def _validate_context(
    name: str, body: dict[str, Any], clusters: dict[str, _Cluster], users: dict[str, _User]
) -> KubeContext:
    cluster_name, user_name = body.get("cluster"), body.get("user")
    if not isinstance(cluster_name, str) or cluster_name not in clusters:
        raise KubeconfigError(
            _('Context "%(name)s" names cluster "%(cluster)s", which is not in the file.')
            % {"name": name, "cluster": cluster_name or ""}
        )
    if not isinstance(user_name, str) or user_name not in users:
        raise KubeconfigError(
            _('Context "%(name)s" names user "%(user)s", which is not in the file.')
            % {"name": name, "user": user_name or ""}
        )
    namespace = body.get("namespace") or None
    if namespace is not None and (
        not isinstance(namespace, str) or len(namespace) > 63 or not _NAMESPACE_RE.match(namespace)
    ):
        raise KubeconfigError(
            _('Context "%(name)s" has an invalid namespace "%(namespace)s".')
            % {"name": name, "namespace": namespace}
        )
    cluster, user = clusters[cluster_name], users[user_name]
    return KubeContext(
        name=name,
        cluster_name=cluster_name,
        server=cluster.server,
        ca_pem=cluster.ca_pem,
        insecure_skip_tls_verify=cluster.insecure,
        token=user.token,
        client_cert_pem=user.client_cert_pem,
        client_key_pem=user.client_key_pem,
        username=user.username,
        password=user.password,
        namespace=namespace,
        tls_server_name=cluster.tls_server_name,
    )


def _base64_field(body: dict[str, Any], key: str, kind: str, name: str) -> bytes:
    value = body.get(key)
    try:
        if not isinstance(value, str):
            raise ValueError(key)
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise KubeconfigError(
            _('%(kind)s "%(name)s": %(key)s is not valid base64.')
            % {"kind": kind, "name": name, "key": key}
        ) from None


def _pem_certificates(raw: bytes, problem: str) -> str:
    try:
        certificates = x509.load_pem_x509_certificates(raw)
    except ValueError:
        raise KubeconfigError(problem) from None
    # Re-encoding keeps only the certificates, should a private key have been pasted alongside.
    return "".join(
        certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")
        for certificate in certificates
    )


# --- Hosts -------------------------------------------------------------------------------


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
    if not host or not _HOST_NAME_RE.match(host):
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
