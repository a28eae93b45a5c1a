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
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.utils.translation import gettext as _

from accounts.addresses import (
    HOST_NAME_RE,
    refuse_link_local_or_metadata,
    validate_api_server_url,
)
from accounts.boundedyaml import MAX_KUBECONFIG_BYTES, decode_document, load_document
from accounts.errors import KubeconfigError

__all__ = [
    "MAX_KUBECONFIG_BYTES",
    "KubeContext",
    "KubeconfigError",
    "ValidatedKubeconfig",
    "parse_ca_certificate",
    "refuse_link_local_or_metadata",
    "service_account_context",
    "validate_api_server_url",
    "validate_kubeconfig",
]

_NAMESPACE_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_TOKEN_RE = re.compile(r"^[\x21-\x7e]+$")

_IMPERSONATION_KEYS = ("as", "as-uid", "as-groups", "as-user-extra")


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
    document = load_document(decode_document(data))
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


# --- Loading -----------------------------------------------------------------------------


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
        not isinstance(tls_server_name, str) or not HOST_NAME_RE.match(tls_server_name.lower())
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
