"""pytest fixtures for the fake TKE API: one server per session, reset for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.tkeapi.server import TkeApiServer


@pytest.fixture(scope="session")
def tkeapi_server() -> Iterator[TkeApiServer]:
    """The fake TKE endpoint, listening on 127.0.0.1 for the whole test session."""
    with TkeApiServer() as server:
        yield server


@pytest.fixture
def tkeapi(tkeapi_server: TkeApiServer, settings) -> Iterator[TkeApiServer]:
    """The fake TKE endpoint, emptied, with ``REGCRED_TKE_ENDPOINT`` pointing at it."""
    tkeapi_server.reset()
    settings.REGCRED_TKE_ENDPOINT = tkeapi_server.url
    yield tkeapi_server
    tkeapi_server.reset()
