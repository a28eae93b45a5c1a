"""limit/continue paging, remainingItemCount and expired continue tokens."""

from __future__ import annotations

import time

import pytest
from kubernetes import client

from .clients import api_client, status_of
from .errors import EXPIRED_CONTINUE_MSG
from .server import KubeApiServer


@pytest.fixture
def ten_secrets(kubeapi: KubeApiServer) -> KubeApiServer:
    """Secrets s0..s9 in `default`, every other one labelled."""
    for i in range(10):
        labels = {"even": "yes"} if i % 2 == 0 else {}
        kubeapi.put_object("secrets", {"metadata": {"name": f"s{i}", "labels": labels}}, "default")
    return kubeapi


def test_it_pages_with_limit_and_continue(
    ten_secrets: KubeApiServer, core: client.CoreV1Api
) -> None:
    first = core.list_namespaced_secret("default", limit=4)
    second = core.list_namespaced_secret("default", limit=4, _continue=first.metadata._continue)
    third = core.list_namespaced_secret("default", limit=4, _continue=second.metadata._continue)

    names = [s.metadata.name for page in (first, second, third) for s in page.items]
    assert names == [f"s{i}" for i in range(10)]
    assert (first.metadata.remaining_item_count, second.metadata.remaining_item_count) == (6, 2)
    assert third.metadata._continue is None
    assert third.metadata.remaining_item_count is None
    # Every chunk reports the resourceVersion of the first one.
    assert (
        first.metadata.resource_version
        == second.metadata.resource_version
        == third.metadata.resource_version
    )


def test_a_selector_hides_remaining_item_count(
    ten_secrets: KubeApiServer, core: client.CoreV1Api
) -> None:
    first = core.list_namespaced_secret("default", limit=2, label_selector="even=yes")

    assert [s.metadata.name for s in first.items] == ["s0", "s2"]
    assert first.metadata._continue
    assert first.metadata.remaining_item_count is None


def test_a_continue_token_must_come_with_the_same_selectors(
    ten_secrets: KubeApiServer, core: client.CoreV1Api
) -> None:
    first = core.list_namespaced_secret("default", limit=2, label_selector="even=yes")

    with pytest.raises(client.ApiException) as excinfo:
        core.list_namespaced_secret("default", limit=2, _continue=first.metadata._continue)

    assert excinfo.value.status == 400
    assert status_of(excinfo.value)["message"].startswith("invalid continue token")


def test_a_continue_token_cannot_be_combined_with_a_resource_version(
    ten_secrets: KubeApiServer, core: client.CoreV1Api
) -> None:
    first = core.list_namespaced_secret("default", limit=2)

    with pytest.raises(client.ApiException) as excinfo:
        core.list_namespaced_secret(
            "default",
            limit=2,
            _continue=first.metadata._continue,
            resource_version=first.metadata.resource_version,
        )

    assert excinfo.value.status == 400
    assert (
        status_of(excinfo.value)["message"]
        == "specifying resource version is not allowed when using continue"
    )


def test_a_garbage_continue_token_gives_400(core: client.CoreV1Api) -> None:
    with pytest.raises(client.ApiException) as excinfo:
        core.list_namespace(limit=2, _continue="!!!")

    assert excinfo.value.status == 400


def test_an_expired_continue_token_gives_410(
    ten_secrets: KubeApiServer, core: client.CoreV1Api
) -> None:
    first = core.list_namespaced_secret("default", limit=4)

    ten_secrets.expire_continue_tokens()
    with pytest.raises(client.ApiException) as excinfo:
        core.list_namespaced_secret("default", limit=4, _continue=first.metadata._continue)

    assert excinfo.value.status == 410
    body = status_of(excinfo.value)
    assert body["reason"] == "Expired"
    assert body["message"] == EXPIRED_CONTINUE_MSG
    assert body["metadata"]["continue"]  # a fresh token to carry on inconsistently


def test_compact_also_expires_continue_tokens(
    ten_secrets: KubeApiServer, core: client.CoreV1Api
) -> None:
    first = core.list_namespaced_secret("default", limit=4)

    ten_secrets.compact()

    with pytest.raises(client.ApiException) as excinfo:
        core.list_namespaced_secret("default", limit=4, _continue=first.metadata._continue)
    assert excinfo.value.status == 410


def test_paging_five_thousand_namespaces_is_fast() -> None:
    started = time.monotonic()
    server = KubeApiServer(namespaces=5000)
    seeded = time.monotonic() - started
    with server:
        api = client.CoreV1Api(api_client(server))
        names: list[str] = []
        token = None
        started = time.monotonic()
        while True:
            page = (
                api.list_namespace(limit=500, _continue=token)
                if token
                else api.list_namespace(limit=500)
            )
            names += [n.metadata.name for n in page.items]
            token = page.metadata._continue
            if not token:
                break
        listed = time.monotonic() - started

    assert len(names) == 5004
    assert names == sorted(names)
    assert seeded < 5, f"seeding 5000 namespaces took {seeded:.1f}s"
    assert listed < 5, f"listing 11 pages took {listed:.1f}s"
