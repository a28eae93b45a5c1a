"""Watch: initial events, resourceVersions, selectors, bookmarks, timeouts and 410s."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client, watch

from .server import KubeApiServer


def later(action: Callable[[], object], delay: float = 0.2) -> threading.Timer:
    """Run a write from another thread while the test is blocked in a watch."""
    timer = threading.Timer(delay, action)
    timer.start()
    return timer


def until_named(stream: Iterator[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """Collect events up to and including the first one for object `name` (a sentinel)."""
    events = []
    for event in stream:
        events.append(event)
        if event["object"].metadata.name == name:
            break
    return events


def test_a_watch_without_resource_version_starts_with_added_events(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    later(lambda: kubeapi.create_namespace("team-a"))
    seen = []
    for event in watch.Watch().stream(core.list_namespace, timeout_seconds=5):
        seen.append((event["type"], event["object"].metadata.name))
        if event["object"].metadata.name == "team-a":
            break

    assert seen == [
        ("ADDED", "default"),
        ("ADDED", "kube-node-lease"),
        ("ADDED", "kube-public"),
        ("ADDED", "kube-system"),
        ("ADDED", "team-a"),
    ]


def test_a_watch_from_a_resource_version_sends_only_later_events(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    rv = core.list_namespace().metadata.resource_version
    kubeapi.create_namespace("team-a")
    kubeapi.put_object("namespaces", {"metadata": {"name": "team-a", "labels": {"x": "y"}}})
    kubeapi.delete_namespace("team-a")

    events = [
        (e["type"], e["object"].metadata.name, e["object"].status.phase)
        for e in watch.Watch().stream(core.list_namespace, resource_version=rv, timeout_seconds=1)
    ]

    assert events == [
        ("ADDED", "team-a", "Active"),
        ("MODIFIED", "team-a", "Active"),
        ("MODIFIED", "team-a", "Terminating"),
        ("DELETED", "team-a", "Terminating"),
    ]


def test_deleting_a_namespace_sends_deleted_events_for_its_secrets(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    kubeapi.create_namespace("team-a")
    kubeapi.put_object("secrets", {"metadata": {"name": "regcred"}}, "team-a")
    rv = kubeapi.resource_version
    kubeapi.delete_namespace("team-a")
    kubeapi.put_object("secrets", {"metadata": {"name": "end"}}, "default")

    stream = watch.Watch().stream(
        core.list_secret_for_all_namespaces, resource_version=rv, timeout_seconds=5
    )
    events = until_named(stream, "end")

    assert [(e["type"], e["object"].metadata.name) for e in events] == [
        ("DELETED", "regcred"),
        ("ADDED", "end"),
    ]
    assert int(events[0]["object"].metadata.resource_version) > int(rv)


def test_a_namespaced_watch_sees_only_its_namespace(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    rv = kubeapi.resource_version
    kubeapi.put_object("secrets", {"metadata": {"name": "here"}}, "default")
    kubeapi.put_object("secrets", {"metadata": {"name": "there"}}, "kube-system")
    kubeapi.put_object("secrets", {"metadata": {"name": "end"}}, "default")

    stream = watch.Watch().stream(
        core.list_namespaced_secret, "default", resource_version=rv, timeout_seconds=5
    )

    assert [e["object"].metadata.name for e in until_named(stream, "end")] == ["here", "end"]


def test_a_label_selector_turns_label_changes_into_added_and_deleted(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    kubeapi.put_object("secrets", {"metadata": {"name": "s"}}, "default")
    rv = kubeapi.resource_version
    kubeapi.put_object("secrets", {"metadata": {"name": "s", "labels": {"team": "a"}}}, "default")
    kubeapi.put_object(
        "secrets", {"metadata": {"name": "s", "labels": {"team": "a", "x": "1"}}}, "default"
    )
    kubeapi.put_object("secrets", {"metadata": {"name": "s", "labels": {"team": "b"}}}, "default")
    kubeapi.put_object("secrets", {"metadata": {"name": "end", "labels": {"team": "a"}}}, "default")

    stream = watch.Watch().stream(
        core.list_namespaced_secret,
        "default",
        resource_version=rv,
        label_selector="team=a",
        timeout_seconds=5,
    )

    events = [(e["type"], e["object"].metadata.name) for e in until_named(stream, "end")]
    assert events == [("ADDED", "s"), ("MODIFIED", "s"), ("DELETED", "s"), ("ADDED", "end")]


def test_a_field_selector_filters_watched_secrets_by_type(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    rv = kubeapi.resource_version
    kubeapi.put_object("secrets", {"metadata": {"name": "plain"}}, "default")
    kubeapi.put_object(
        "secrets",
        {
            "metadata": {"name": "regcred"},
            "type": "kubernetes.io/dockerconfigjson",
            "stringData": {".dockerconfigjson": "{}"},
        },
        "default",
    )
    kubeapi.put_object("secrets", {"metadata": {"name": "plain-2"}}, "default")
    kubeapi.put_object(
        "secrets",
        {
            "metadata": {"name": "end"},
            "type": "kubernetes.io/dockerconfigjson",
            "stringData": {".dockerconfigjson": "{}"},
        },
        "default",
    )

    stream = watch.Watch().stream(
        core.list_secret_for_all_namespaces,
        resource_version=rv,
        field_selector="type=kubernetes.io/dockerconfigjson",
        timeout_seconds=5,
    )

    assert [e["object"].metadata.name for e in until_named(stream, "end")] == ["regcred", "end"]


def test_timeout_seconds_ends_the_stream_cleanly(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    started = time.monotonic()
    events = list(
        watch.Watch().stream(
            core.list_namespace, resource_version=kubeapi.resource_version, timeout_seconds=1
        )
    )

    assert events == []
    assert 0.9 <= time.monotonic() - started < 3


def test_bookmarks_carry_only_the_resource_version(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    kubeapi.bookmark_interval = 0.2
    rv = kubeapi.resource_version

    events = list(
        watch.Watch().stream(
            core.list_namespace,
            resource_version=rv,
            allow_watch_bookmarks=True,
            timeout_seconds=1,
            deserialize=False,
        )
    )

    bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
    assert len(bookmarks) >= 2
    assert bookmarks[0]["object"]["kind"] == "Namespace"
    assert bookmarks[0]["object"]["metadata"]["resourceVersion"] == rv
    assert set(bookmarks[0]["object"]["metadata"]) == {"resourceVersion", "creationTimestamp"}


def test_no_bookmarks_unless_asked_for(kubeapi: KubeApiServer, core: client.CoreV1Api) -> None:
    kubeapi.bookmark_interval = 0.1

    events = list(
        watch.Watch().stream(
            core.list_namespace, resource_version=kubeapi.resource_version, timeout_seconds=1
        )
    )

    assert events == []


def test_a_compacted_resource_version_gives_a_410_error_event(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    rv = kubeapi.resource_version
    kubeapi.create_namespace("team-a")
    kubeapi.compact()

    with pytest.raises(client.ApiException) as excinfo:
        list(watch.Watch().stream(core.list_namespace, resource_version=rv, timeout_seconds=5))

    assert excinfo.value.status == 410
    assert (
        excinfo.value.reason
        == f"Expired: too old resource version: {rv} ({kubeapi.resource_version})"
    )


def test_a_small_event_window_expires_old_resource_versions(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    kubeapi.set_event_window(2)
    rv = kubeapi.resource_version
    for i in range(5):
        kubeapi.put_object("secrets", {"metadata": {"name": f"s{i}"}}, "default")
    recent = kubeapi.history[-2].resource_version

    with pytest.raises(client.ApiException) as excinfo:
        list(
            watch.Watch().stream(
                core.list_namespaced_secret, "default", resource_version=rv, timeout_seconds=5
            )
        )
    fine = watch.Watch().stream(
        core.list_namespaced_secret, "default", resource_version=recent, timeout_seconds=5
    )

    assert excinfo.value.status == 410
    assert [e["object"].metadata.name for e in until_named(fine, "s4")] == ["s4"]


def test_the_wire_format_is_chunked_newline_delimited_json(kubeapi: KubeApiServer) -> None:
    context = ssl.create_default_context(cadata=kubeapi.ca_pem)
    conn = http.client.HTTPSConnection("127.0.0.1", kubeapi.port, context=context, timeout=5)
    later(lambda: kubeapi.create_namespace("team-a"))
    conn.request(
        "GET",
        f"/api/v1/watch/namespaces?resourceVersion={kubeapi.resource_version}&timeoutSeconds=1",
        headers={"Authorization": f"Bearer {kubeapi.admin_token}"},
    )
    response = conn.getresponse()
    line = response.readline()
    response.read()
    conn.close()

    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.getheader("Content-Type") == "application/json"
    event = json.loads(line)
    assert event["type"] == "ADDED"
    assert event["object"]["kind"] == "Namespace"
    assert event["object"]["metadata"]["name"] == "team-a"


def test_reset_ends_open_watches(kubeapi: KubeApiServer, core: client.CoreV1Api) -> None:
    later(kubeapi.reset, delay=0.3)
    started = time.monotonic()

    list(
        watch.Watch().stream(
            core.list_namespace, resource_version=kubeapi.resource_version, timeout_seconds=10
        )
    )

    assert time.monotonic() - started < 3


def test_send_initial_events_ends_the_initial_list_with_a_bookmark(kubeapi: KubeApiServer) -> None:
    context = ssl.create_default_context(cadata=kubeapi.ca_pem)
    conn = http.client.HTTPSConnection("127.0.0.1", kubeapi.port, context=context, timeout=5)
    conn.request(
        "GET",
        "/api/v1/namespaces?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan"
        "&allowWatchBookmarks=true&timeoutSeconds=1",
        headers={"Authorization": f"Bearer {kubeapi.admin_token}"},
    )
    events = [json.loads(line) for line in conn.getresponse().read().splitlines()]
    conn.close()

    assert [e["type"] for e in events[:5]] == ["ADDED"] * 4 + ["BOOKMARK"]
    bookmark = events[4]["object"]["metadata"]
    assert bookmark["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert bookmark["resourceVersion"] == kubeapi.resource_version
