"""The fake kube-apiserver: HTTPS transport, fault injection, request log and test API."""

from __future__ import annotations

import base64
import contextlib
import re
import secrets
import socket
import ssl
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml

from . import errors
from .auth import Authenticator, Principal, Rules
from .certs import CertificateAuthority
from .cluster import Cluster
from .handlers import ApiHandler, Request, RequestInfo, Response, request_info
from .kinds import KINDS, Kind
from .store import HistoryEntry, Store, copy_json

__all__ = ["Fault", "HistoryEntry", "KubeApiServer", "RequestRecord"]

ACTIONS = ("error", "latency", "slow", "drop")


@dataclass
class Fault:
    """A fault rule: requests matching method/path/verb get `action`, `times` times.

    action: "error" answers `status` with a Status body (429 adds Retry-After),
    "latency" sleeps `delay_ms` and then serves normally, "slow" serves normally but sleeps
    `delay_ms` before writing the response (the write has already happened), and "drop"
    closes the connection without any response (nothing is written to the store).
    `times=None` means every matching request, forever.
    """

    method: str | None = None
    path: str = ""  # regex, searched in the URL path (no query string)
    verb: str | None = None  # list, get, create, update, patch, delete, watch, ...
    action: str = "error"
    status: int = 500
    times: int | None = 1
    delay_ms: int = 0
    retry_after: int = 1
    message: str = "injected fault"
    hits: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}; use one of {ACTIONS}")
        self._pattern = re.compile(self.path)

    def matches(self, method: str, path: str, verb: str) -> bool:
        """Whether this rule applies to a request (ignoring how often it fired)."""
        if self.method and self.method.upper() != method:
            return False
        if self.verb and self.verb != verb:
            return False
        return bool(self._pattern.search(path))


class FaultSet:
    """The active fault rules; the first matching rule with firings left wins."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Activate a rule and return it (its `hits` counts firings)."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._faults.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)

    def take(self, method: str, path: str, verb: str) -> Fault | None:
        """Consume one firing of the first matching rule."""
        with self._lock:
            for fault in self._faults:
                if fault.times is not None and fault.hits >= fault.times:
                    continue
                if fault.matches(method, path, verb):
                    fault.hits += 1
                    return fault
        return None


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it."""

    time: float
    method: str
    path: str
    query: dict[str, str]
    verb: str
    kind: str | None  # resource plural ("secrets"), None for discovery
    namespace: str | None
    name: str | None
    user: str | None
    status: int  # 0 when the connection was dropped on purpose
    user_agent: str | None
    content_type: str | None
    body: bytes


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], owner: KubeApiServer, context: ssl.SSLContext):
        self.owner = owner
        self.context = context
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs in the connection's own thread, so a slow or broken client
        # never blocks the accept loop.
        # Go's net/http (and so kube-apiserver) sets TCP_NODELAY; without it the header and
        # body writes meet the client's delayed ACK and every request waits 40 ms.
        with contextlib.suppress(OSError):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            with contextlib.suppress(ConnectionError, ssl.SSLError, OSError):
                self.RequestHandlerClass(tls, client_address, self)
        finally:
            with contextlib.suppress(OSError):
                tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connection errors are expected (dropped connections, killed kubectl); stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _TLSServer

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr; tests read the request log instead."""

    def do_GET(self) -> None:
        self._serve()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        owner = self.server.owner
        split = urlsplit(self.path)
        path = unquote(split.path)
        query: dict[str, str] = {}
        for key, value in parse_qsl(split.query, keep_blank_values=True):
            query.setdefault(key, value)  # Go's url.Values.Get returns the first value
        body = self._read_body()
        try:
            peer = self.connection.getpeercert(binary_form=True)
        except (ValueError, AttributeError):
            peer = None
        request = Request(self.command, path, query, self.headers, body, peer)
        try:
            info = request_info(self.command, path, query)
        except errors.ApiError as exc:
            info = RequestInfo(verb=self.command.lower())
            self._finish(request, info, Response(exc.code, exc.status()), None)
            return
        if owner.latency_ms:
            time.sleep(owner.latency_ms / 1000)
        fault = owner.faults.take(self.command, path, info.verb)
        if fault is not None and fault.action == "drop":
            owner._record(request, info, 0, None)
            self.close_connection = True
            # A TCP shutdown without TLS close_notify: the client sees the peer vanish.
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.action == "latency":
            time.sleep(fault.delay_ms / 1000)
        if fault is not None and fault.action == "error":
            exc = errors.for_code(fault.status, fault.message, fault.retry_after)
            response = Response(exc.code, exc.status(), dict(exc.headers))
        else:
            response = owner.handler.handle(request, info)
        slow = fault.delay_ms / 1000 if fault is not None and fault.action == "slow" else 0
        self._finish(request, info, response, slow)

    def _finish(
        self, request: Request, info: RequestInfo, response: Response, slow: float | None
    ) -> None:
        owner = self.server.owner
        owner._record(request, info, response.status, response.user)
        if slow:
            time.sleep(slow)
        if response.stream is not None:
            self._write_stream(response)
            return
        if isinstance(response.body, bytes):
            payload = response.body
        else:
            payload = errors.json_bytes(response.body)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _write_stream(self, response: Response) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        assert response.stream is not None
        try:
            for line in response.stream:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (ConnectionError, ssl.SSLError, OSError):
            self.close_connection = True


class KubeApiServer:
    """A strict in-process kube-apiserver for tests, served over HTTPS on 127.0.0.1."""

    def __init__(
        self,
        namespaces: int = 0,
        latency_ms: int = 0,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        event_window: int = 10_000,
        bookmark_interval: float = 1.0,
    ) -> None:
        self.seed_namespaces = namespaces
        self.latency_ms = latency_ms
        self.bookmark_interval = bookmark_interval
        self._defaults = (latency_ms, event_window, bookmark_interval)
        self._host, self._port = host, port
        self._ca = CertificateAuthority()
        self._server_cert = self._ca.issue_server()
        self.ca_pem: str = self._ca.cert_pem
        self.ca_data: str = self._ca.cert_data
        self.admin_token: str = secrets.token_urlsafe(32)
        self.store = Store(event_window)
        self.cluster = Cluster(self.store)
        self.auth = Authenticator()
        self.auth.add_token(
            self.admin_token,
            Principal("kubernetes-admin", ("system:masters", "system:authenticated")),
        )
        self.faults = FaultSet()
        self._requests: list[RequestRecord] = []
        self._requests_lock = threading.Lock()
        self._stopping = threading.Event()
        self.handler = ApiHandler(
            self.cluster,
            self.auth,
            lambda: f"{self._host}:{self.port}",
            self._stopping,
            lambda: self.bookmark_interval,
        )
        self._httpd: _TLSServer | None = None
        self._thread: threading.Thread | None = None
        self.cluster.seed_system_namespaces(namespaces)

    # -- lifecycle -------------------------------------------------------------------------
    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as tmp:
            cert, key = Path(tmp, "tls.crt"), Path(tmp, "tls.key")
            cert.write_text(self._server_cert.cert_pem + self.ca_pem)
            key.write_text(self._server_cert.key_pem)
            context.load_cert_chain(cert, key)
        # Ask for (but do not require) a client certificate, like the apiserver's
        # RequestClientCert; an unknown CA still fails the handshake here, which is stricter.
        context.verify_mode = ssl.CERT_OPTIONAL
        context.load_verify_locations(cadata=self.ca_pem)
        context.set_alpn_protocols(["http/1.1"])
        return context

    def start(self) -> KubeApiServer:
        """Bind a port and serve in a background thread."""
        if self._httpd is not None:
            return self
        self._stopping.clear()
        self._httpd = _TLSServer((self._host, self._port), self, self._ssl_context())
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            daemon=True,
            name=f"kubeapi-{self.port}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; open watch streams end."""
        if self._httpd is None:
            return
        self._stopping.set()
        with self.store.lock:
            self.store.changed.notify_all()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> KubeApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (0 before start)."""
        return self._httpd.server_address[1] if self._httpd else 0

    @property
    def url(self) -> str:
        """`https://127.0.0.1:PORT`."""
        return f"https://{self._host}:{self.port}"

    def reset(self) -> None:
        """Back to a fresh cluster: seeded namespaces only, no faults, logs or extra tokens."""
        self.latency_ms, event_window, self.bookmark_interval = self._defaults
        with self.store.lock:
            self.store.clear()
            self.store.set_event_window(event_window)
            self.cluster.seed_system_namespaces(self.seed_namespaces)
        self.faults.clear()
        self.clear_requests()
        self.auth.remove_tokens_except(self.admin_token)

    def compact(self) -> None:
        """Drop retained watch events and continue tokens: old resourceVersions now get 410."""
        self.store.compact()

    def expire_continue_tokens(self) -> None:
        """Make continue tokens handed out so far answer 410 Expired (watches unaffected)."""
        self.store.expire_continue_tokens()

    def set_event_window(self, size: int) -> None:
        """Keep only the newest `size` watch events; older resourceVersions then get 410."""
        self.store.set_event_window(size)

    @property
    def resource_version(self) -> str:
        """The newest resourceVersion in the cluster."""
        return str(self.store.resource_version)

    # -- credentials -----------------------------------------------------------------------
    def add_token(
        self,
        token: str,
        user: str = "bob",
        groups: tuple[str, ...] | list[str] = (),
        verbs: Any = None,
        resources: Any = None,
        namespaces: Any = None,
    ) -> str:
        """Accept a bearer token for `user`, limited to verbs/resources/namespaces (None = all)."""
        principal = Principal(
            user, (*groups, "system:authenticated"), Rules.of(verbs, resources, namespaces)
        )
        self.auth.add_token(token, principal)
        return token

    def issue_client_cert(
        self,
        cn: str = "alice",
        groups: tuple[str, ...] | list[str] = ("system:masters",),
        verbs: Any = None,
        resources: Any = None,
        namespaces: Any = None,
    ) -> tuple[str, str]:
        """A client certificate/key (PEM) for user `cn`; full rights unless restricted."""
        issued = self._ca.issue_client(cn, tuple(groups))
        self.auth.set_cert_rules(issued.serial, Rules.of(verbs, resources, namespaces))
        return issued.cert_pem, issued.key_pem

    def kubeconfig(
        self,
        token: str | None = None,
        cert: str | None = None,
        key: str | None = None,
        context: str = "fake",
        insecure: bool = False,
        namespace: str | None = None,
    ) -> dict[str, Any]:
        """A complete kubeconfig dict with inline CA data (admin token by default)."""
        cluster: dict[str, Any] = {"server": self.url}
        if insecure:
            cluster["insecure-skip-tls-verify"] = True
        else:
            cluster["certificate-authority-data"] = self.ca_data
        user: dict[str, Any] = {}
        if cert or key:
            if not (cert and key):
                raise ValueError("a client certificate needs both cert and key")
            user["client-certificate-data"] = base64.b64encode(cert.encode()).decode()
            user["client-key-data"] = base64.b64encode(key.encode()).decode()
        if token or not user:
            user["token"] = token or self.admin_token
        ctx: dict[str, Any] = {"cluster": context, "user": context}
        if namespace:
            ctx["namespace"] = namespace
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": cluster}],
            "users": [{"name": context, "user": user}],
            "contexts": [{"name": context, "context": ctx}],
            "current-context": context,
            "preferences": {},
        }

    def kubeconfig_yaml(self, **kwargs: Any) -> str:
        """kubeconfig() as YAML text."""
        return yaml.safe_dump(self.kubeconfig(**kwargs), sort_keys=False)

    def write_kubeconfig(self, path: str | Path, **kwargs: Any) -> Path:
        """Write kubeconfig_yaml() to `path` (mode 0600) and return the path."""
        target = Path(path)
        target.write_text(self.kubeconfig_yaml(**kwargs))
        target.chmod(0o600)
        return target

    # -- direct state access (no HTTP, not logged) -----------------------------------------
    @staticmethod
    def _kind(kind_plural: str) -> Kind:
        try:
            return KINDS[kind_plural]
        except KeyError:
            raise ValueError(f"unknown resource {kind_plural!r}; known: {sorted(KINDS)}") from None

    def create_namespace(self, name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
        """Create a namespace (and, like the controller, its default ServiceAccount)."""
        metadata: dict[str, Any] = {"name": name}
        if labels:
            metadata["labels"] = dict(labels)
        return self.cluster.create(
            KINDS["namespaces"], None, {"metadata": metadata}, "kubectl-create"
        )

    def delete_namespace(self, name: str) -> None:
        """Delete a namespace and everything in it."""
        self.cluster.delete(KINDS["namespaces"], None, name)

    def put_object(
        self,
        kind_plural: str,
        obj: dict[str, Any],
        namespace: str | None = None,
        manager: str = "kubectl-create",
    ) -> dict[str, Any]:
        """Create or replace an object as if written over the API (validated; status kept).

        Raises errors.ApiError (e.g. 404 when the namespace does not exist, 422 when invalid).
        """
        kind = self._kind(kind_plural)
        body = copy_json(obj)
        meta = body.setdefault("metadata", {})
        ns = (namespace or meta.get("namespace")) if kind.namespaced else None
        if kind.namespaced and not ns:
            raise ValueError(f"{kind_plural} are namespaced: pass namespace= or metadata.namespace")
        with self.store.lock:
            if self.store.get(kind.resource, ns or "", meta.get("name", "")) is None:
                return self.cluster.create(kind, ns, body, manager, keep_status=True)
            meta.pop("resourceVersion", None)
            return self.cluster.update(kind, ns, meta["name"], body, manager, keep_status=True)

    def get_object(
        self, kind_plural: str, namespace: str | None, name: str
    ) -> dict[str, Any] | None:
        """A copy of the stored object, or None."""
        kind = self._kind(kind_plural)
        with self.store.lock:
            obj = self.store.get(kind.resource, (namespace or "") if kind.namespaced else "", name)
            return copy_json(obj) if obj is not None else None

    def list_objects(self, kind_plural: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Copies of all objects of a kind (in one namespace if given), ordered by key."""
        kind = self._kind(kind_plural)
        with self.store.lock:
            scope = namespace if kind.namespaced else None
            return [copy_json(o) for o in self.store.iter_objects(kind.resource, scope)]

    @property
    def history(self) -> list[HistoryEntry]:
        """Every write since the last reset (seeding included), oldest first."""
        return self.store.history

    # -- request log -----------------------------------------------------------------------
    def _record(self, req: Request, info: RequestInfo, status: int, user: str | None) -> None:
        record = RequestRecord(
            time=time.time(),
            method=req.method,
            path=req.path,
            query=dict(req.query),
            verb=info.verb,
            kind=info.resource if info.is_resource else None,
            namespace=info.namespace,
            name=info.name,
            user=user,
            status=status,
            user_agent=req.headers.get("User-Agent"),
            content_type=req.headers.get("Content-Type"),
            body=req.body,
        )
        with self._requests_lock:
            self._requests.append(record)

    @property
    def requests(self) -> list[RequestRecord]:
        """All requests since the last clear, oldest first."""
        with self._requests_lock:
            return list(self._requests)

    def request_counts(self) -> Counter[tuple[str, str | None]]:
        """How many requests per (verb, kind), e.g. counts[("list", "secrets")]."""
        return Counter((r.verb, r.kind) for r in self.requests)

    def requests_matching(
        self,
        method: str | None = None,
        path_prefix: str | None = None,
        verb: str | None = None,
        kind: str | None = None,
        namespace: str | None = None,
        user: str | None = None,
        status: int | None = None,
    ) -> list[RequestRecord]:
        """The logged requests that match every given filter."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper())
            and (path_prefix is None or r.path.startswith(path_prefix))
            and (verb is None or r.verb == verb)
            and (kind is None or r.kind == kind)
            and (namespace is None or r.namespace == namespace)
            and (user is None or r.user == user)
            and (status is None or r.status == status)
        ]

    def clear_requests(self) -> None:
        """Forget the request log."""
        with self._requests_lock:
            self._requests.clear()
