"""metadata.managedFields: who wrote which fields, and when."""

from __future__ import annotations

from kubernetes import client

from .clients import raw_request
from .server import KubeApiServer


def test_the_manager_defaults_to_the_user_agent_prefix(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_secret(
        "default", {"metadata": {"name": "x"}, "data": {"a": "YQ=="}}
    )

    (entry,) = created.metadata.managed_fields
    assert entry.manager == "OpenAPI-Generator"
    assert entry.operation == "Update"
    assert entry.api_version == "v1"
    assert entry.fields_type == "FieldsV1"
    assert entry.fields_v1 == {"f:data": {".": {}, "f:a": {}}, "f:type": {}}


def test_field_manager_in_the_query_wins(kubeapi: KubeApiServer) -> None:
    response = raw_request(
        kubeapi,
        "POST",
        "/api/v1/namespaces/default/secrets?fieldManager=regcred-dashboard",
        {"metadata": {"name": "x"}},
        headers={"User-Agent": "python-requests/2.32"},
    )

    assert response.json()["metadata"]["managedFields"][0]["manager"] == "regcred-dashboard"


def test_a_user_agent_manager_is_cut_at_the_first_slash(kubeapi: KubeApiServer) -> None:
    response = raw_request(
        kubeapi,
        "POST",
        "/api/v1/namespaces/default/secrets",
        {"metadata": {"name": "x"}},
        headers={"User-Agent": "python-requests/2.32"},
    )

    assert response.json()["metadata"]["managedFields"][0]["manager"] == "python-requests"


def test_a_label_patch_adds_a_second_manager_for_the_label_only(kubeapi: KubeApiServer) -> None:
    kubeapi.put_object("secrets", {"metadata": {"name": "x"}, "data": {"a": "YQ=="}}, "default")

    response = raw_request(
        kubeapi,
        "PATCH",
        "/api/v1/namespaces/default/secrets/x?fieldManager=kubectl-label",
        {"metadata": {"labels": {"team": "a"}}},
        headers={"Content-Type": "application/merge-patch+json"},
    )

    entries = response.json()["metadata"]["managedFields"]
    assert [e["manager"] for e in entries] == ["kubectl-create", "kubectl-label"]
    assert entries[1]["fieldsV1"] == {"f:metadata": {"f:labels": {".": {}, "f:team": {}}}}
    assert entries[1]["time"].endswith("Z")


def test_overwriting_fields_moves_them_to_the_new_manager(kubeapi: KubeApiServer) -> None:
    kubeapi.put_object(
        "secrets", {"metadata": {"name": "x"}, "data": {"a": "YQ=="}}, "default", manager="first"
    )

    response = raw_request(
        kubeapi,
        "PATCH",
        "/api/v1/namespaces/default/secrets/x?fieldManager=second",
        {"data": {"a": "Yg=="}},
        headers={"Content-Type": "application/merge-patch+json"},
    )

    entries = {e["manager"]: e["fieldsV1"] for e in response.json()["metadata"]["managedFields"]}
    assert entries == {
        "first": {"f:data": {".": {}}, "f:type": {}},
        "second": {"f:data": {"f:a": {}}},
    }
