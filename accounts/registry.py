"""Check a registry credential against the registry's ``/v2/`` endpoint.

The only module that talks to container registries. It follows the Docker Registry HTTP API v2
authentication dance: an anonymous ``GET /v2/``, then Basic credentials or a token from the
``Bearer`` realm, as the ``WWW-Authenticate`` challenge asks. Failures become RegistryError with
a message for a person and a ``permanent`` flag (bad credentials or input: don't retry;
network trouble and 5xx: retry later). The password never reaches a log line or a message.
"""

from __future__ import annotations

import logging
import re
import ssl
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import certifi
import requests
import urllib3
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter

from accounts.dockerconfig import DOCKER_HUB, canonical_registry_host
from accounts.kubeconfig import KubeconfigError, refuse_link_local_or_metadata

logger = logging.getLogger(__name__)

# docker.io is not itself a registry endpoint; this is where docker pulls from.
_DOCKER_HUB_ENDPOINT = "registry-1.docker.io"

_HTTP_NAME = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"  # RFC 9110 "token" (a name, not a credential)
_SCHEME_RE = re.compile(rf"[\s,]*({_HTTP_NAME})")
# Unquoted values are read up to the next comma or space, not just as RFC tokens: some token
# services announce unquoted realm URLs. A value never starts with "=", which keeps token68
# credentials ("abc==") from being read as a parameter.
_PARAM_RE = re.compile(rf'[\s,]*({_HTTP_NAME})\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,"=][^\s,"]*)')
_TOKEN68_RE = re.compile(r"\s+[A-Za-z0-9\-._~+/]+=*")


class RegistryError(Exception):
    """A registry credential could not be verified."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class VerificationResult:
    """What the registry said about a credential."""

    ok: bool
    message: str
    scheme: str  # "basic" | "bearer" | "none"


def registry_verify(
    *,
    server: str,
    username: str,
    password: str,
    ca_pem: str | None = None,
    insecure: bool = False,
) -> VerificationResult:
    """Log in to a registry's ``/v2/`` endpoint; raise RegistryError when that fails."""
    base_url, host = _registry_base_url(server)
    with _session(ca_pem=ca_pem, insecure=insecure) as session:
        response = _get(session, f"{base_url}/v2/", host)
        if response.status_code == 200:
            return VerificationResult(
                ok=True,
                message=_(
                    "The registry %(host)s answered without asking for credentials; "
                    "the username and password were not checked."
                )
                % {"host": host},
                scheme="none",
            )
        if response.status_code != 401:
            raise _status_error(response, host)
        challenges = parse_www_authenticate(response.headers.get("WWW-Authenticate", ""))
        if "bearer" in challenges:
            return _verify_bearer(session, base_url, host, challenges["bearer"], username, password)
        if "basic" in challenges:
            return _verify_basic(session, base_url, host, username, password)
        raise RegistryError(
            _(
                "The registry %(host)s asks for an authentication method this dashboard does not "
                "support (%(methods)s)."
            )
            % {"host": host, "methods": ", ".join(sorted(challenges)) or _("none given")},
            permanent=True,
        )


def parse_www_authenticate(header: str) -> dict[str, dict[str, str]]:
    """Parse a ``WWW-Authenticate`` header into ``{scheme: {param: value}}``.

    Handles several challenges in one header (requests joins repeated headers with commas) and
    quoted values that contain commas, such as ``scope="repository:a/b:pull,push"``.
    Scheme and parameter names are lower-cased; the first challenge of a scheme wins.
    """
    challenges: dict[str, dict[str, str]] = {}
    position = 0
    while position < len(header):
        match = _SCHEME_RE.match(header, position)
        if match is None:
            break
        params: dict[str, str] = {}
        challenges.setdefault(match.group(1).lower(), params)
        position = match.end()
        token68 = _TOKEN68_RE.match(header, position)
        if token68 is not None and not _PARAM_RE.match(header, position):
            position = token68.end()
            continue
        while (param := _PARAM_RE.match(header, position)) is not None:
            name, value = param.group(1).lower(), param.group(2)
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params.setdefault(name, value)
            position = param.end()
    return challenges


# --- Flows -------------------------------------------------------------------------------


def _verify_basic(
    session: requests.Session, base_url: str, host: str, username: str, password: str
) -> VerificationResult:
    response = _get(session, f"{base_url}/v2/", host, auth=(username, password))
    if response.status_code == 200:
        return VerificationResult(
            ok=True,
            message=_("The registry %(host)s accepted the username and password.") % {"host": host},
            scheme="basic",
        )
    if response.status_code in (401, 403):
        raise RegistryError(
            _("The registry %(host)s refused the username or password.") % {"host": host},
            permanent=True,
        )
    raise _status_error(response, host)


def _verify_bearer(
    session: requests.Session,
    base_url: str,
    host: str,
    challenge: dict[str, str],
    username: str,
    password: str,
) -> VerificationResult:
    token = _fetch_token(session, host, challenge, username, password)
    response = _get(session, f"{base_url}/v2/", host, headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 200:
        return VerificationResult(
            ok=True,
            message=_("The registry %(host)s accepted the credentials (token login).")
            % {"host": host},
            scheme="bearer",
        )
    if response.status_code in (401, 403):
        raise RegistryError(
            _(
                "The registry %(host)s refused the token its own token service issued for these "
                "credentials."
            )
            % {"host": host},
            permanent=True,
        )
    raise _status_error(response, host)


def _fetch_token(
    session: requests.Session,
    host: str,
    challenge: dict[str, str],
    username: str,
    password: str,
) -> str:
    realm = challenge.get("realm", "")
    realm_parts = urlsplit(realm)
    if realm_parts.scheme not in ("https", "http") or not realm_parts.hostname:
        raise RegistryError(
            _(
                "The registry %(host)s points to a token service with an unusable address "
                '"%(realm)s".'
            )
            % {"host": host, "realm": realm},
            permanent=True,
        )
    realm_host = realm_parts.hostname
    _refuse_internal_host(realm_host)
    params = {key: challenge[key] for key in ("service", "scope") if challenge.get(key)}
    response = _get(session, realm, realm_host, params=params, auth=(username, password))
    if response.status_code in (401, 403):
        raise RegistryError(
            _("The token service of %(host)s (%(realm_host)s) refused the username or password.")
            % {"host": host, "realm_host": realm_host},
            permanent=True,
        )
    if response.status_code != 200:
        raise _status_error(response, realm_host)
    try:
        body = response.json()
    except ValueError:
        body = None
    token = (body.get("token") or body.get("access_token")) if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        raise RegistryError(
            _("The token service of %(host)s (%(realm_host)s) answered without a token.")
            % {"host": host, "realm_host": realm_host},
            permanent=False,
        )
    return token


# --- HTTP --------------------------------------------------------------------------------


def _registry_base_url(server: str) -> tuple[str, str]:
    """Return (``scheme://host[:port]``, ``host[:port]``) for a credential's server."""
    if not isinstance(server, str) or not server.strip():
        raise RegistryError(_("The registry server is empty."), permanent=True)
    scheme = "http" if server.strip().lower().startswith("http://") else "https"
    try:
        host = canonical_registry_host(server)
    except ValueError:
        raise RegistryError(_("The registry server is empty."), permanent=True) from None
    if host == DOCKER_HUB:
        host = _DOCKER_HUB_ENDPOINT
    try:
        parts = urlsplit(f"{scheme}://{host}")
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if parts is None or not parts.hostname or parts.username is not None:
        raise RegistryError(
            _('The registry server "%(server)s" is not a host name.') % {"server": server.strip()},
            permanent=True,
        )
    _refuse_internal_host(parts.hostname)
    return f"{scheme}://{host}", host


def _refuse_internal_host(host: str) -> None:
    try:
        refuse_link_local_or_metadata(host)
    except KubeconfigError as error:
        raise RegistryError(error.message, permanent=True) from None


class _TrustAdapter(HTTPAdapter):
    """Adapter that verifies TLS with an in-memory SSL context (no CA file on disk)."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._ssl_context = ssl_context
        super().__init__()

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        if verify is not False:
            pool_kwargs["ssl_context"] = self._ssl_context
        return host_params, pool_kwargs


def _session(*, ca_pem: str | None, insecure: bool) -> requests.Session:
    session = requests.Session()
    # No ~/.netrc: credentials go only where this module puts them. Proxies are set per request.
    session.trust_env = False
    session.headers["User-Agent"] = "regcred-dashboard"
    if insecure:
        session.verify = False
    elif ca_pem:
        context = ssl.create_default_context(cafile=certifi.where())
        try:
            context.load_verify_locations(cadata=ca_pem)
        except (ssl.SSLError, ValueError):
            raise RegistryError(
                _("The registry CA certificate could not be read."), permanent=True
            ) from None
        session.mount("https://", _TrustAdapter(context))
    return session


def _get(
    session: requests.Session,
    url: str,
    host: str,
    *,
    auth: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> requests.Response:
    timeout = float(settings.REGCRED_REGISTRY_TIMEOUT)
    try:
        with warnings.catch_warnings():
            # Skipping verification was asked for explicitly; no need to warn per request.
            warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
            response = session.get(
                url,
                auth=auth,
                headers=headers,
                params=params,
                timeout=timeout,
                # A redirect could lead anywhere, metadata services included; never follow one.
                allow_redirects=False,
                proxies=requests.utils.get_environ_proxies(url),
            )
    except requests.exceptions.RequestException as error:
        raise _connection_error(error, host, timeout) from None
    logger.debug("registry %s answered %s for %s", host, response.status_code, urlsplit(url).path)
    return response


def _status_error(response: requests.Response, host: str) -> RegistryError:
    status = response.status_code
    if 300 <= status < 400:
        location = response.headers.get("Location", "")
        return RegistryError(
            _(
                "%(host)s answered with a redirect to %(location)s, which is not followed; "
                "enter the registry's final address."
            )
            % {"host": host, "location": location},
            permanent=True,
        )
    if status == 429 or status >= 500:
        return RegistryError(
            _("%(host)s is having trouble (HTTP %(status)d); try again later.")
            % {"host": host, "status": status},
            permanent=False,
        )
    if status == 404:
        return RegistryError(
            _("%(host)s does not look like a container registry (no /v2/ endpoint).")
            % {"host": host},
            permanent=True,
        )
    return RegistryError(
        _("%(host)s refused the request (HTTP %(status)d).") % {"host": host, "status": status},
        permanent=True,
    )


def _connection_error(
    error: requests.exceptions.RequestException, host: str, timeout: float
) -> RegistryError:
    if isinstance(error, requests.exceptions.Timeout):
        message = _("%(host)s did not answer within %(seconds)g seconds.") % {
            "host": host,
            "seconds": timeout,
        }
    elif isinstance(error, requests.exceptions.SSLError):
        message = _("The TLS connection to %(host)s failed: %(reason)s.") % {
            "host": host,
            "reason": _tls_reason(error),
        }
    elif _caused_by(error, urllib3.exceptions.NameResolutionError):
        message = _("The host name of %(host)s could not be resolved.") % {"host": host}
    elif _caused_by(error, ConnectionRefusedError):
        message = _("%(host)s refused the connection.") % {"host": host}
    elif isinstance(error, requests.exceptions.ConnectionError):
        message = _("Could not connect to %(host)s.") % {"host": host}
    else:
        message = _("The request to %(host)s failed.") % {"host": host}
    return RegistryError(message, permanent=False)


def _tls_reason(error: BaseException) -> str:
    verification = _caused_by(error, ssl.SSLCertVerificationError)
    if verification is not None and verification.verify_message:
        return _("certificate not trusted (%(detail)s)") % {"detail": verification.verify_message}
    tls = _caused_by(error, ssl.SSLError)
    if tls is not None and tls.reason:
        return str(tls.reason)
    return _("handshake failed")


def _caused_by(error: BaseException, kind: type[BaseException]) -> Any:
    """Find an exception of ``kind`` in the chain requests and urllib3 wrap around the cause."""
    seen: set[int] = set()
    pending: list[Any] = [error]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return current
        pending.extend([current.__cause__, current.__context__, *current.args])
        pending.append(getattr(current, "reason", None))
    return None
