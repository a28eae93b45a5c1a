"""The `.dockerconfigjson` content of an image-pull Secret, byte for byte as kubectl writes it.

``kubectl create secret docker-registry`` marshals a Go struct with ``encoding/json``; the
Secret's content checksum is compared across clusters, so every byte must match: compact
separators, field order username/password/email/auth, empty fields omitted, and Go's string
escaping (HTML-safe ``\\u003c``/``\\u003e``/``\\u0026``, ``\\u2028``/``\\u2029``, ``\\b``/``\\f``
since Go 1.22, other control characters as ``\\u00XX``, everything else raw UTF-8).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

DOCKER_HUB = "docker.io"
# Docker Hub answers to several names; auths keys written by docker login use the first.
_DOCKER_HUB_ALIASES = frozenset({"index.docker.io", "registry-1.docker.io", "docker.io"})

_GO_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def dockerconfigjson(*, server: str, username: str, password: str, email: str = "") -> bytes:
    """Return the `.dockerconfigjson` bytes kubectl would put in the Secret for these flags."""
    for flag, value in (
        ("server", server),
        ("username", username),
        ("password", password),
        ("email", email),
    ):
        # kubectl refuses to create the Secret without server, username and password.
        if not value and flag != "email":
            raise ValueError(f"docker {flag} must not be empty")
        # Lone surrogates cannot come from a form or a command line; Go would see raw bytes.
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"docker {flag} is not valid Unicode text") from None
    entry = {
        "username": username,
        "password": password,
        "email": email,
        "auth": base64.b64encode(f"{username}:{password}".encode()).decode("ascii"),
    }
    fields = ",".join(
        f"{_go_string(key)}:{_go_string(value)}" for key, value in entry.items() if value
    )
    return f'{{"auths":{{{_go_string(server)}:{{{fields}}}}}}}'.encode()


def registry_hosts(dockerconfig: bytes | Mapping[str, Any]) -> set[str]:
    """Return the registry hosts a docker config holds credentials for, normalised.

    Accepts `.dockerconfigjson` content (an ``auths`` mapping) or a legacy `.dockercfg` mapping
    (servers at the top level). Docker Hub's several names become ``docker.io``.
    """
    if isinstance(dockerconfig, bytes | bytearray):
        try:
            dockerconfig = json.loads(dockerconfig)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError("docker config is not JSON") from error
    if not isinstance(dockerconfig, Mapping):
        raise ValueError("docker config is not a JSON object")
    auths = dockerconfig.get("auths")
    servers = auths if isinstance(auths, Mapping) else dockerconfig
    return {canonical_registry_host(server) for server in servers if str(server).strip()}


def normalise_registry_server(server: str) -> str:
    """Reduce a registry server to ``host[:port]``: no scheme, path or trailing slash, lower case.

    Follows docker's own ``ConvertToHostname``: drop ``http://``/``https://``, keep what comes
    before the first slash.
    """
    host = server.strip()
    lowered = host.lower()
    for scheme in ("https://", "http://"):
        if lowered.startswith(scheme):
            host = host[len(scheme) :]
            break
    host = host.split("/", 1)[0].lower()
    if not host:
        raise ValueError("registry server is empty")
    return host


def canonical_registry_host(server: str) -> str:
    """Normalise a registry server and unify Docker Hub's names as ``docker.io``.

    Use this to compare a credential's server with the hosts found in a Secret.
    """
    host = normalise_registry_server(server)
    return DOCKER_HUB if host in _DOCKER_HUB_ALIASES else host


def content_checksum(data: bytes) -> str:
    """Return the sha256 hex digest recorded in place of a Secret's content."""
    return hashlib.sha256(data).hexdigest()


def _go_string(value: str) -> str:
    """Encode a string the way Go's encoding/json does with HTML escaping on (the default)."""
    out = ['"']
    for char in value:
        escaped = _GO_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif char < " ":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)
