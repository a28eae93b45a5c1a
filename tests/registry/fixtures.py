"""pytest fixtures: a real docker-registry on loopback HTTPS, and Bearer-token stand-ins.

``registry_server`` runs Debian's ``docker-registry`` (distribution v2) with htpasswd (bcrypt)
auth and a throw-away CA; ``open_registry_server`` is the same without auth. ``bearer_registry``
is a fake ``/v2/`` endpoint plus token service (see ``tests/registry/fakes.py`` for why).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.accounts.certs import CertificateAuthority, Issued, make_ca
from tests.registry.fakes import BearerRegistry, start_bearer_registry

DOCKER_REGISTRY = "/usr/bin/docker-registry"
STARTUP_SECONDS = 20.0


@dataclass(frozen=True)
class RegistryTLS:
    """The throw-away CA, and the loopback server certificate it issued (also on disk)."""

    ca: CertificateAuthority
    server: Issued
    cert_file: Path
    key_file: Path

    @property
    def ca_pem(self) -> str:
        """The CA certificate clients must trust."""
        return self.ca.pem

    def server_context(self) -> ssl.SSLContext:
        """An SSL context serving the loopback certificate, for the fake servers."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


@dataclass(frozen=True)
class RunningRegistry:
    """A docker-registry process the tests can log in to."""

    url: str
    host: str
    username: str
    password: str
    ca_pem: str


@pytest.fixture(scope="session")
def registry_tls(tmp_path_factory: pytest.TempPathFactory) -> RegistryTLS:
    """A CA and a certificate for 127.0.0.1 and localhost, shared by all registry servers."""
    ca = make_ca("regcred registry test CA")
    server = ca.issue_server(["127.0.0.1", "localhost"])
    directory = tmp_path_factory.mktemp("registry-tls")
    cert_file, key_file = directory / "server.crt", directory / "server.key"
    cert_file.write_text(server.cert_pem)
    key_file.write_text(server.key_pem)
    return RegistryTLS(ca=ca, server=server, cert_file=cert_file, key_file=key_file)


@pytest.fixture(scope="session")
def registry_server(
    registry_tls: RegistryTLS, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningRegistry]:
    """A real docker-registry with htpasswd auth on loopback HTTPS."""
    username, password = "ci-bot", secrets.token_urlsafe(16)
    workdir = tmp_path_factory.mktemp("registry-auth")
    htpasswd = workdir / "htpasswd"
    htpasswd.write_text(_bcrypt_line(username, password))
    yield from _run_registry(registry_tls, workdir, htpasswd, username, password)


@pytest.fixture(scope="session")
def open_registry_server(
    registry_tls: RegistryTLS, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningRegistry]:
    """A real docker-registry that asks for no credentials at all."""
    workdir = tmp_path_factory.mktemp("registry-open")
    yield from _run_registry(registry_tls, workdir, None, "", "")


@pytest.fixture
def bearer_registry(registry_tls: RegistryTLS) -> Iterator[BearerRegistry]:
    """A fake registry challenging with Bearer, and the token service it points to."""
    fake = start_bearer_registry(
        ssl_context=registry_tls.server_context(),
        ca_pem=registry_tls.ca_pem,
        username="ci-bot",
        password=secrets.token_urlsafe(16),
    )
    yield fake
    fake.registry.stop()
    fake.tokens.stop()


def _run_registry(
    tls: RegistryTLS, workdir: Path, htpasswd: Path | None, username: str, password: str
) -> Iterator[RunningRegistry]:
    if not os.path.exists(DOCKER_REGISTRY):
        pytest.skip("docker-registry not installed: apt-get install docker-registry")
    port = _free_port()
    config = workdir / "config.yml"
    config.write_text(_config_yaml(tls, workdir, port, htpasswd))
    log_path = workdir / "registry.log"
    # REGISTRY_* variables override the config file; keep the caller's out of it.
    env = {key: value for key, value in os.environ.items() if not key.startswith("REGISTRY_")}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [DOCKER_REGISTRY, "serve", str(config)], stdout=log, stderr=log, env=env
        )
    try:
        _wait_until_listening(process, port, log_path)
        yield RunningRegistry(
            url=f"https://127.0.0.1:{port}",
            host=f"127.0.0.1:{port}",
            username=username,
            password=password,
            ca_pem=tls.ca_pem,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _config_yaml(tls: RegistryTLS, workdir: Path, port: int, htpasswd: Path | None) -> str:
    auth = (
        f"auth:\n  htpasswd:\n    realm: regcred-test\n    path: {htpasswd}\n"
        if htpasswd is not None
        else ""
    )
    return (
        "version: 0.1\n"
        "log:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {workdir / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: {secrets.token_hex(16)}\n"
        f"  tls:\n    certificate: {tls.cert_file}\n    key: {tls.key_file}\n"
        f"{auth}"
    )


def _bcrypt_line(username: str, password: str) -> str:
    """An htpasswd line with a bcrypt hash, the only kind docker-registry accepts."""
    htpasswd = shutil.which("htpasswd")
    if htpasswd is not None:
        result = subprocess.run(
            [htpasswd, "-Bbn", username, password], capture_output=True, check=True, text=True
        )
        return result.stdout.strip() + "\n"
    try:
        import bcrypt  # optional fallback when apache2-utils is missing
    except ImportError:
        pytest.skip("neither htpasswd (apache2-utils) nor the bcrypt module is installed")
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
    return f"{username}:{hashed}\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"docker-registry exited at startup:\n{log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    process.kill()
    pytest.fail(
        f"docker-registry did not listen within {STARTUP_SECONDS}s:\n{log_path.read_text()}"
    )
