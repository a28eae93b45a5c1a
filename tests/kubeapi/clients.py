"""Client-side helpers for the fake's own tests: an ApiClient, raw HTTPS calls, Status bodies."""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass
from typing import Any

from kubernetes import client, config

from .server import KubeApiServer


def api_client(server: KubeApiServer, **kubeconfig: Any) -> client.ApiClient:
    """A kubernetes ApiClient built from the server's kubeconfig (admin token by default)."""
    return config.new_client_from_config_dict(server.kubeconfig(**kubeconfig))


def status_of(exc: client.ApiException) -> dict[str, Any]:
    """The Status object carried by a failed call."""
    return json.loads(exc.body)


@dataclass
class RawResponse:
    """What a raw HTTPS call got back."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


def raw_request(
    server: KubeApiServer,
    method: str,
    path: str,
    body: bytes | str | dict[str, Any] | list[Any] | None = None,
    headers: dict[str, str] | None = None,
    token: str | None = "admin",  # noqa: S107 - "admin" selects the server's admin token
    timeout: float = 10,
) -> RawResponse:
    """One HTTPS request with full control over headers (e.g. odd Content-Types)."""
    context = ssl.create_default_context(cadata=server.ca_pem)
    conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=context, timeout=timeout)
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {server.admin_token if token == 'admin' else token}"
    if isinstance(body, dict | list):
        body = json.dumps(body)
    try:
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        return RawResponse(response.status, dict(response.getheaders()), response.read())
    finally:
        conn.close()
