"""Namespaces, their controllers, and the write history tests use to prove invariants."""

from __future__ import annotations

import pytest
from kubernetes import client

from .clients import raw_request, status_of
from .server import KubeApiServer

RFC1123_LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


def test_a_fresh_cluster_has_the_four_system_namespaces_with_default_service_accounts(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    names = [n.metadata.name for n in core.list_namespace().items]
    service_accounts = [
        (s.metadata.namespace, s.metadata.name)
        for s in core.list_service_account_for_all_namespaces().items
    ]

    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"]
    assert service_accounts == [(n, "default") for n in names]


def test_seeded_namespaces_are_numbered(kubeapi: KubeApiServer) -> None:
    server = KubeApiServer(namespaces=3)

    names = [n["metadata"]["name"] for n in server.list_objects("namespaces")]

    assert names[-3:] == ["ns-0001", "ns-0002", "ns-0003"]
    assert server.get_object("serviceaccounts", "ns-0003", "default") is not None


def test_creating_a_namespace_sets_label_finalizer_and_phase(core: client.CoreV1Api) -> None:
    created = core.create_namespace({"metadata": {"name": "team-a", "labels": {"env": "dev"}}})

    assert created.metadata.labels == {"env": "dev", "kubernetes.io/metadata.name": "team-a"}
    assert created.spec.finalizers == ["kubernetes"]
    assert created.status.phase == "Active"


def test_creating_a_namespace_creates_its_default_service_account_as_a_separate_write(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    core.create_namespace({"metadata": {"name": "team-a"}})

    writes = [(h.verb, h.kind, h.namespace, h.name) for h in kubeapi.history[-2:]]
    assert writes == [
        ("create", "namespaces", None, "team-a"),
        ("create", "serviceaccounts", "team-a", "default"),
    ]
    sa = core.read_namespaced_service_account("default", "team-a")
    assert sa.metadata.name == "default"


def test_a_namespace_name_must_be_an_rfc1123_label(core: client.CoreV1Api) -> None:
    with pytest.raises(client.ApiException) as excinfo:
        core.create_namespace({"metadata": {"name": "a.b"}})

    assert excinfo.value.status == 422
    assert status_of(excinfo.value)["message"] == (
        f'Namespace "a.b" is invalid: metadata.name: Invalid value: "a.b": {RFC1123_LABEL}'
    )


def test_deleting_a_namespace_removes_everything_in_it(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    kubeapi.create_namespace("team-a")
    kubeapi.put_object("secrets", {"metadata": {"name": "regcred"}}, "team-a")
    kubeapi.put_object("secrets", {"metadata": {"name": "other"}}, "default")

    response = raw_request(kubeapi, "DELETE", "/api/v1/namespaces/team-a")

    assert response.status == 200
    assert response.json()["status"] == {"phase": "Terminating"}
    assert response.json()["metadata"]["deletionTimestamp"]
    assert kubeapi.get_object("namespaces", None, "team-a") is None
    assert kubeapi.list_objects("secrets", "team-a") == []
    assert kubeapi.list_objects("serviceaccounts", "team-a") == []
    assert kubeapi.get_object("secrets", "default", "other") is not None
    deletes = [(h.kind, h.name) for h in kubeapi.history if h.verb == "delete"]
    assert deletes == [
        ("secrets", "regcred"),
        ("serviceaccounts", "default"),
        ("namespaces", "team-a"),
    ]


def test_deleting_a_missing_namespace_gives_404(core: client.CoreV1Api) -> None:
    with pytest.raises(client.ApiException) as excinfo:
        core.delete_namespace("nope")

    assert status_of(excinfo.value)["message"] == 'namespaces "nope" not found'


def test_the_default_service_account_comes_back_after_deletion(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    before = core.read_namespaced_service_account("default", "default")

    core.delete_namespaced_service_account("default", "default")

    after = core.read_namespaced_service_account("default", "default")
    assert after.metadata.uid != before.metadata.uid


def test_history_proves_a_namespace_was_never_without_its_secret(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    kubeapi.create_namespace("team-a")
    kubeapi.put_object("secrets", {"metadata": {"name": "regcred"}}, "team-a")
    core.replace_namespaced_secret(
        "regcred", "team-a", {"metadata": {"name": "regcred"}, "data": {"a": "YQ=="}}
    )
    core.delete_namespaced_secret("regcred", "team-a")

    present = False
    timeline = []
    for entry in kubeapi.history:
        if (entry.kind, entry.namespace, entry.name) == ("secrets", "team-a", "regcred"):
            present = entry.verb != "delete"
            timeline.append((entry.verb, present))
    assert timeline == [("create", True), ("update", True), ("delete", False)]
    # Each entry is a snapshot: later writes do not change earlier copies.
    snapshots = [h.object for h in kubeapi.history if h.name == "regcred" and h.object]
    assert "data" not in snapshots[0] and snapshots[1]["data"] == {"a": "YQ=="}


def test_put_object_replaces_and_raises_for_a_missing_namespace(kubeapi: KubeApiServer) -> None:
    first = kubeapi.put_object("secrets", {"metadata": {"name": "x"}}, "default")
    second = kubeapi.put_object(
        "secrets", {"metadata": {"name": "x", "labels": {"a": "b"}}}, "default"
    )

    assert second["metadata"]["uid"] == first["metadata"]["uid"]
    assert kubeapi.get_object("secrets", "default", "x")["metadata"]["labels"] == {"a": "b"}
    with pytest.raises(Exception, match='namespaces "nope" not found'):
        kubeapi.put_object("secrets", {"metadata": {"name": "x"}}, "nope")


def test_reset_returns_to_a_fresh_cluster(kubeapi: KubeApiServer) -> None:
    kubeapi.create_namespace("team-a")
    kubeapi.add_token("extra", user="bob")
    rv = int(kubeapi.resource_version)

    kubeapi.reset()

    assert kubeapi.get_object("namespaces", None, "team-a") is None
    assert [h.kind for h in kubeapi.history].count("namespaces") == 4
    assert raw_request(kubeapi, "GET", "/api/v1/namespaces", token="extra").status == 401
    assert int(kubeapi.resource_version) > rv  # resourceVersions never go backwards


def test_put_object_can_seed_status(kubeapi: KubeApiServer) -> None:
    pod = {
        "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "web", "image": "nginx"}]},
        "status": {"phase": "Running"},
    }
    kubeapi.put_object("pods", pod, "default")
    pod["status"] = {"phase": "Failed"}

    replaced = kubeapi.put_object("pods", pod, "default")

    assert replaced["status"] == {"phase": "Failed"}
    assert [h.verb for h in kubeapi.history if h.name == "web"] == ["create", "update"]
