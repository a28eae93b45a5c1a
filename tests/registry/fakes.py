"""Tiny loopback HTTPS servers for what the real docker-registry cannot easily show.

Debian's ``docker-registry`` speaks Basic auth from an htpasswd file out of the box; its token
auth needs a JWT signing setup, so the Bearer flow is exercised against these stand-ins: a token
service that checks Basic credentials and issues opaque tokens, and a registry ``/v2/`` endpoint
that challenges with ``Bearer realm=...`` and accepts only tokens that service issued. The same
registry stand-in can be switched to misbehave (5xx, 404, redirects, stalls) for failure paths.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class LoopbackHTTPSServer(ThreadingHTTPServer):
    """A threaded HTTPS server on 127.0.0.1 with a random port, run in a daemon thread."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, handler: type[BaseHTTPRequestHandler], ssl_context: ssl.SSLContext):
        super().__init__(("127.0.0.1", 0), handler)
        self.ssl_context = ssl_context
        self.stopping = threading.Event()
        # A short poll interval keeps shutdown() (once per test) from waiting half a second.
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``."""
        return f"127.0.0.1:{self.server_address[1]}"

    def get_request(self) -> tuple[Any, Any]:
        sock, address = self.socket.accept()
        # Handshake in the handler thread, so a client that rejects our certificate (a test
        # of TLS failure) cannot stall the accept loop.
        return self.ssl_context.wrap_socket(
            sock, server_side=True, do_handshake_on_connect=False
        ), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: clients hanging up or refusing our certificate is what tests do."""

    def start(self) -> None:
        """Serve in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release any handler waiting on ``stopping``."""
        self.stopping.set()
        self.shutdown()
        self.server_close()


class _QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on the test output."""

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def basic_credentials(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        username, _, password = base64.b64decode(header[6:]).decode().partition(":")
        return username, password


@dataclass
class TokenService:
    """State of the fake token service: who may log in, what it answers, what it saw."""

    username: str
    password: str
    service: str = "fake-registry"
    # "token" | "access_token" | "garbage" | "error"
    answer: str = "token"
    issued: set[str] = field(default_factory=set)
    requests: list[dict[str, Any]] = field(default_factory=list)


class _TokenHandler(_QuietHandler):
    def do_GET(self) -> None:
        state: TokenService = self.server.state
        query = {key: values[0] for key, values in parse_qs(urlsplit(self.path).query).items()}
        credentials = self.basic_credentials()
        state.requests.append({"query": query, "username": credentials and credentials[0]})
        if state.answer == "error":
            self.send_json(503, {"details": "token service down"})
        elif credentials != (state.username, state.password) or query.get("service") != (
            state.service
        ):
            self.send_json(401, {"details": "incorrect username or password"})
        elif state.answer == "garbage":
            body = b"<html>not a token</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            token = secrets.token_urlsafe(24)
            state.issued.add(token)
            self.send_json(200, {state.answer: token, "expires_in": 300})


@dataclass
class FakeRegistryState:
    """State of the fake ``/v2/`` endpoint."""

    challenge: str
    token_service: TokenService
    # "bearer" | "reject-tokens" | "open" | "status" | "redirect" | "negotiate" | "stall"
    mode: str = "bearer"
    status: int = 503
    location: str = "http://169.254.169.254/latest/meta-data/"
    authorizations: list[str] = field(default_factory=list)


class _RegistryHandler(_QuietHandler):
    def do_GET(self) -> None:
        state: FakeRegistryState = self.server.state
        authorization = self.headers.get("Authorization", "")
        state.authorizations.append(authorization)
        headers = {"Docker-Distribution-Api-Version": "registry/2.0"}
        handlers: dict[str, Callable[[], None]] = {
            "open": lambda: self.send_json(200, {}, headers),
            "status": lambda: self.send_json(state.status, {"errors": []}, headers),
            "redirect": lambda: self.send_json(302, {}, {"Location": state.location}),
            "negotiate": lambda: self.send_json(401, {}, {"WWW-Authenticate": "Negotiate"}),
        }
        if state.mode in handlers:
            handlers[state.mode]()
            return
        if state.mode == "stall":
            self.server.stopping.wait(10)
            return
        token = authorization.removeprefix("Bearer ")
        if (
            state.mode == "bearer"
            and authorization.startswith("Bearer ")
            and token in state.token_service.issued
        ):
            self.send_json(200, {}, headers)
            return
        self.send_json(
            401,
            {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]},
            {**headers, "WWW-Authenticate": state.challenge},
        )


@dataclass
class BearerRegistry:
    """A fake registry and its token service, both on loopback HTTPS with one test CA."""

    registry: LoopbackHTTPSServer
    tokens: LoopbackHTTPSServer
    ca_pem: str
    username: str
    password: str

    @property
    def host(self) -> str:
        """The registry's ``127.0.0.1:PORT``."""
        return self.registry.host

    @property
    def state(self) -> FakeRegistryState:
        """The registry's switchable behaviour and what it received."""
        return self.registry.state

    @property
    def token_service(self) -> TokenService:
        """The token service's switchable behaviour and what it received."""
        return self.tokens.state

    @property
    def realm(self) -> str:
        """The token service's URL, as announced in the Bearer challenge."""
        return f"https://{self.tokens.host}/token"


def start_bearer_registry(
    *, ssl_context: ssl.SSLContext, ca_pem: str, username: str, password: str
) -> BearerRegistry:
    """Start a token service and a registry that challenges with ``Bearer`` pointing at it."""
    tokens = LoopbackHTTPSServer(_TokenHandler, ssl_context)
    tokens.state = TokenService(username=username, password=password)
    registry = LoopbackHTTPSServer(_RegistryHandler, ssl_context)
    # A scope with a comma inside quotes: the challenge parser must not split on it.
    registry.state = FakeRegistryState(
        challenge=(
            f'Bearer realm="https://{tokens.host}/token",service="fake-registry",'
            'scope="repository:team/app:pull,push"'
        ),
        token_service=tokens.state,
    )
    tokens.start()
    registry.start()
    return BearerRegistry(
        registry=registry, tokens=tokens, ca_pem=ca_pem, username=username, password=password
    )
