"""pytest fixtures for the fake kube-apiserver (loaded from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import KubeApiServer


@pytest.fixture(scope="session")
def kubeapi_server() -> Iterator[KubeApiServer]:
    """One fake apiserver for the whole test session (started lazily, stopped at the end)."""
    server = KubeApiServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kubeapi(kubeapi_server: KubeApiServer) -> KubeApiServer:
    """The session's fake apiserver, reset to a fresh cluster for this test."""
    kubeapi_server.reset()
    return kubeapi_server
