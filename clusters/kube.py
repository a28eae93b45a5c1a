"""The only module that talks to Kubernetes: clients from stored connections, retries, errors.

Everything above this module sees plain dicts (the API's JSON) and ``KubeError``. Lists are
read with ``_preload_content=False`` and parsed with ``json`` because the client's model
deserialisation costs more than the network at thousands of objects.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import random
import ssl
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import urllib3
from django.conf import settings
from django.utils.translation import gettext as _
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from accounts.kubeconfig import KubeContext

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 10.0
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
FIELD_MANAGER = "regcred-dashboard"


@dataclass
class KubeError(Exception):
    """A failed Kubernetes call, with a message for a person and whether retrying can help."""

    message: str
    permanent: bool
    status: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        return self.message


def _memory_file(data: bytes) -> tuple[str, Callable[[], None]]:
    """A path to ``data`` that never touches the disk (memfd on Linux), and its closer.

    ``ssl`` can only load client certificates from paths; an anonymous memory file gives it
    one without writing key material anywhere.
    """
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("regcred", 0)
        os.write(fd, data)
        return f"/proc/self/fd/{fd}", lambda: os.close(fd)
    # Elsewhere (macOS development): a private temp file, removed as soon as it is loaded.
    handle = tempfile.NamedTemporaryFile(delete=False)  # noqa: SIM115
    handle.write(data)
    handle.close()
    os.chmod(handle.name, 0o600)
    return handle.name, lambda: os.unlink(handle.name)


def _ssl_context(context: KubeContext) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if context.insecure_skip_tls_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif context.ca_pem:
        ctx = ssl.create_default_context(cadata=context.ca_pem)
    if context.client_cert_pem and context.client_key_pem:
        cert_path, close_cert = _memory_file(context.client_cert_pem.encode())
        key_path, close_key = _memory_file(context.client_key_pem.encode())
        try:
            ctx.load_cert_chain(cert_path, key_path)
        finally:
            close_cert()
            close_key()
    return ctx


class KubeClient:
    """One cluster's API, shared by the threads of a scan or sync (urllib3 pools connections)."""

    def __init__(
        self,
        context: KubeContext,
        *,
        timeout: float | None = None,
        pool_size: int | None = None,
        retries: int = 4,
        backoff: float = 0.2,
    ) -> None:
        self.server = context.server
        self.timeout = timeout if timeout is not None else settings.REGCRED_KUBE_TIMEOUT
        self.retries = retries
        self.backoff = backoff
        config = k8s.Configuration(host=context.server.rstrip("/"))
        if context.token:
            config.api_key = {"authorization": context.token}
            config.api_key_prefix = {"authorization": "Bearer"}
        elif context.username:
            basic = base64.b64encode(f"{context.username}:{context.password or ''}".encode())
            config.api_key = {"authorization": basic.decode()}
            config.api_key_prefix = {"authorization": "Basic"}
        self.api = k8s.ApiClient(config)
        self.api.user_agent = "regcred-dashboard"
        size = pool_size or max(settings.REGCRED_SYNC_CONCURRENCY, 4)
        # Our own TLS context (CA and client certificate from memory) and no urllib3 retries:
        # retrying is done below, where Retry-After and permanence are known.
        pool_options: dict[str, Any] = {}
        if context.tls_server_name:
            # Dialled by address (TKE endpoints): check the certificate for this name instead.
            pool_options["server_hostname"] = context.tls_server_name
        self.api.rest_client.pool_manager = urllib3.PoolManager(
            num_pools=2,
            maxsize=size,
            block=False,
            retries=False,
            ssl_context=_ssl_context(context),
            **pool_options,
        )

    def close(self) -> None:
        self.api.rest_client.pool_manager.clear()

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- calls ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        content_type: str | None = None,
        timeout: float | None = None,
    ) -> dict:
        """One API call with retries; returns the decoded JSON body."""
        response = self._with_retries(
            lambda: self._raw(
                method, path, query=query, body=body, content_type=content_type, timeout=timeout
            )
        )
        data = response.read()
        return json.loads(data) if data else {}

    def _raw(self, method, path, *, query=None, body=None, content_type=None, timeout=None):
        """Send one request through the client; non-2xx raises ApiException like the client."""
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        elif body is not None:
            headers["Content-Type"] = "application/json"
        params = [(k, v) for k, v in (query or {}).items() if v not in (None, "")]
        serialized = self.api.param_serialize(
            method,
            path,
            query_params=params,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = self.api.call_api(*serialized, _request_timeout=timeout or self.timeout)
        if not 200 <= response.status <= 299:
            response.read()
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        return response

    def _with_retries(self, call: Callable[[], Any]) -> Any:
        attempt = 0
        while True:
            try:
                return call()
            except ApiException as exc:
                error = _from_api_exception(exc, self.server)
                wait = _retry_after(exc) if exc.status else None
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                error = _from_network_error(exc, self.server)
                wait = None
            if error.permanent or attempt >= self.retries:
                raise error
            delay = wait if wait is not None else self.backoff * 2**attempt
            time.sleep(min(delay, MAX_RETRY_AFTER) * (1 + random.random() * 0.2))  # noqa: S311
            attempt += 1

    def get(self, path: str) -> dict | None:
        """The object at ``path``, or None when it does not exist."""
        try:
            return self.request("GET", path)
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    def list_all(
        self,
        path: str,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int = 500,
    ) -> tuple[list[dict], str]:
        """Every item of a collection, page by page; returns (items, list resourceVersion).

        A continue token that expired between pages (410) restarts the list once from the
        beginning, as kubectl does, so the result is one consistent snapshot.
        """
        for _attempt in range(2):
            items: list[dict] = []
            token = None
            try:
                while True:
                    page = self.request(
                        "GET",
                        path,
                        query={
                            "limit": limit,
                            "continue": token,
                            "labelSelector": label_selector,
                            "fieldSelector": field_selector,
                        },
                    )
                    items.extend(page.get("items") or [])
                    meta = page.get("metadata") or {}
                    token = meta.get("continue")
                    if not token:
                        return items, meta.get("resourceVersion", "")
            except KubeError as exc:
                if exc.status != 410 or token is None:
                    raise
        raise KubeError(_("The cluster kept expiring the list; try again."), permanent=False)

    def version(self) -> dict:
        return self.request("GET", "/version")

    def can_i(self, verb: str, resource: str, *, group: str = "", namespace: str = "") -> bool:
        review = self.request(
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            body={
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectAccessReview",
                "spec": {
                    "resourceAttributes": {
                        "verb": verb,
                        "resource": resource,
                        "group": group,
                        "namespace": namespace,
                    }
                },
            },
        )
        return bool((review.get("status") or {}).get("allowed"))

    def watch(
        self,
        path: str,
        *,
        resource_version: str = "",
        timeout_seconds: int = 300,
        label_selector: str | None = None,
    ) -> Iterator[dict]:
        """Stream watch events (dicts with ``type`` and ``object``) until the server ends it.

        An ERROR event (for example 410 Gone for a too-old resourceVersion) is raised as a
        KubeError so the caller can relist.
        """
        try:
            response = self._raw(
                "GET",
                path,
                query={
                    "watch": "true",
                    "resourceVersion": resource_version,
                    "allowWatchBookmarks": "true",
                    "timeoutSeconds": timeout_seconds,
                    "labelSelector": label_selector,
                },
                timeout=(self.timeout, timeout_seconds + 30),
            )
        except ApiException as exc:
            raise _from_api_exception(exc, self.server) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _from_network_error(exc, self.server) from exc
        buffer = b""
        stream = response.response
        try:
            for chunk in stream.stream(4096, decode_content=True):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    if event.get("type") == "ERROR":
                        status = event.get("object") or {}
                        raise KubeError(
                            status.get("message", "watch error"),
                            permanent=False,
                            status=status.get("code"),
                            reason=status.get("reason", ""),
                        )
                    yield event
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise _from_network_error(exc, self.server) from exc
        finally:
            stream.release_conn()


def _status_body(exc: ApiException) -> dict:
    with contextlib.suppress(TypeError, ValueError):
        body = json.loads(exc.body or "")
        if isinstance(body, dict):
            return body
    return {}


def _retry_after(exc: ApiException) -> float | None:
    headers = exc.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _from_api_exception(exc: ApiException, server: str) -> KubeError:
    if not exc.status:
        # The client reports a failed TLS handshake as an ApiException with status 0.
        return _from_network_error(exc, server)
    body = _status_body(exc)
    status = exc.status or 0
    detail = body.get("message") or exc.reason or ""
    reason = body.get("reason", "")
    if status == 401:
        message = _("The cluster at %(server)s did not accept the credentials (401 Unauthorized).")
        message %= {"server": server}
    elif status == 403:
        message = _("Permission denied: %(detail)s") % {"detail": detail}
    elif status == 429:
        message = _("The cluster is rate-limiting us (429): %(detail)s") % {"detail": detail}
    elif status >= 500:
        message = _("The cluster answered %(status)d: %(detail)s") % {
            "status": status,
            "detail": detail,
        }
    else:
        message = detail or _("The cluster answered %(status)d.") % {"status": status}
    return KubeError(
        message, permanent=status not in RETRYABLE_STATUS, status=status, reason=reason
    )


def _from_network_error(exc: BaseException, server: str) -> KubeError:
    text = str(getattr(exc, "reason", None) or exc)
    if isinstance(exc, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in text or "SSL" in text:
        # "SSLError\n[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: <why> (_ssl.c)"
        detail = text.rsplit("] ", 1)[-1].split(" (_ssl.c", 1)[0].strip().rstrip(".")
        return KubeError(
            _("TLS to %(server)s failed: %(detail)s. Check the CA certificate.")
            % {"server": server, "detail": detail[:200]},
            permanent=True,
        )
    # NewConnectionError subclasses urllib3's TimeoutError, but a refused or unresolvable
    # address is not slowness: say what the operating system said.
    if isinstance(exc, urllib3.exceptions.NameResolutionError):
        return KubeError(
            _("Could not reach %(server)s: its host name does not resolve.") % {"server": server},
            permanent=False,
        )
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return KubeError(
            _("Could not reach %(server)s: %(detail)s")
            % {"server": server, "detail": _os_reason(exc)},
            permanent=False,
        )
    if isinstance(exc, (urllib3.exceptions.TimeoutError, TimeoutError)):
        return KubeError(
            _("%(server)s did not answer in time.") % {"server": server}, permanent=False
        )
    return KubeError(
        _("Could not reach %(server)s: %(detail)s") % {"server": server, "detail": text[:200]},
        permanent=False,
    )


def _os_reason(exc: BaseException) -> str:
    """The operating system's words for a failed connection ("Connection refused")."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        current = current.__cause__ or current.__context__
    return str(exc).rsplit(": ", 1)[-1][:200]
