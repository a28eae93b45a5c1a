"""PATCH in its three flavours, with the list strategies the product relies on."""

from __future__ import annotations

import pytest
from kubernetes import client

from .clients import raw_request, status_of
from .server import KubeApiServer

MERGE = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


def _secret(kubeapi: KubeApiServer, labels: dict[str, str] | None = None) -> dict[str, object]:
    meta: dict[str, object] = {"name": "s"}
    if labels:
        meta["labels"] = labels
    return kubeapi.put_object(
        "secrets", {"metadata": meta, "data": {"a": "YQ==", "b": "Yg=="}}, "default"
    )


def _patch(kubeapi: KubeApiServer, path: str, body: object, content_type: str):
    return raw_request(kubeapi, "PATCH", path, body, headers={"Content-Type": content_type})


def test_a_merge_patch_deletes_keys_set_to_null(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    _secret(kubeapi, {"keep": "1", "drop": "2"})

    patched = core.patch_namespaced_secret(
        "s", "default", {"metadata": {"labels": {"drop": None, "new": "3"}}}, _content_type=MERGE
    )

    assert patched.metadata.labels == {"keep": "1", "new": "3"}


def test_a_strategic_patch_merges_secret_data_per_key(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    _secret(kubeapi)

    patched = core.patch_namespaced_secret("s", "default", {"data": {"b": None, "c": "Yw=="}})

    assert patched.data == {"a": "YQ==", "c": "Yw=="}


def test_a_strategic_patch_replaces_service_account_image_pull_secrets(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    kubeapi.put_object(
        "serviceaccounts",
        {
            "metadata": {"name": "default"},
            "imagePullSecrets": [{"name": "old"}],
            "secrets": [{"name": "token-a"}],
        },
        "default",
    )

    patched = core.patch_namespaced_service_account(
        "default",
        "default",
        {"imagePullSecrets": [{"name": "regcred"}], "secrets": [{"name": "token-b"}]},
    )

    # ServiceAccount.imagePullSecrets has no patch strategy (replace); secrets merges by name.
    assert [r.name for r in patched.image_pull_secrets] == ["regcred"]
    assert [r.name for r in patched.secrets] == ["token-a", "token-b"]


def test_a_strategic_patch_merges_pod_spec_image_pull_secrets_by_name(
    kubeapi: KubeApiServer, apps: client.AppsV1Api
) -> None:
    template = {
        "metadata": {"labels": {"app": "web"}},
        "spec": {
            "containers": [{"name": "web", "image": "nginx"}, {"name": "side", "image": "busybox"}],
            "imagePullSecrets": [{"name": "old"}],
        },
    }
    body = {
        "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template},
    }
    kubeapi.put_object("deployments", body, "default")

    patch = {
        "spec": {
            "template": {
                "spec": {
                    "imagePullSecrets": [{"name": "regcred"}],
                    "containers": [{"name": "web", "image": "nginx:2"}],
                }
            }
        }
    }
    patched = apps.patch_namespaced_deployment("web", "default", patch)

    pod = patched.spec.template.spec
    assert [s.name for s in pod.image_pull_secrets] == ["old", "regcred"]
    assert [(c.name, c.image) for c in pod.containers] == [("web", "nginx:2"), ("side", "busybox")]
    assert patched.metadata.generation == 2


def test_a_strategic_patch_can_delete_a_list_item_with_a_directive(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    kubeapi.put_object(
        "serviceaccounts",
        {"metadata": {"name": "robot"}, "secrets": [{"name": "a"}, {"name": "b"}]},
        "default",
    )

    patched = core.patch_namespaced_service_account(
        "robot", "default", {"secrets": [{"name": "a", "$patch": "delete"}]}
    )

    assert [r.name for r in patched.secrets] == ["b"]


def test_a_json_patch_applies_operations_in_order(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    _secret(kubeapi, {"team": "a"})
    ops = [
        {"op": "test", "path": "/metadata/labels/team", "value": "a"},
        {"op": "replace", "path": "/metadata/labels/team", "value": "b"},
        {"op": "add", "path": "/metadata/annotations", "value": {}},
        {"op": "add", "path": "/metadata/annotations/example.com~1team", "value": "1"},
        {"op": "remove", "path": "/data/b"},
    ]

    patched = core.patch_namespaced_secret("s", "default", ops)

    assert patched.metadata.labels == {"team": "b"}
    assert patched.metadata.annotations == {"example.com/team": "1"}
    assert patched.data == {"a": "YQ=="}


def test_a_failing_json_patch_test_gives_422_and_changes_nothing(kubeapi: KubeApiServer) -> None:
    before = _secret(kubeapi, {"team": "a"})
    ops = [
        {"op": "replace", "path": "/metadata/labels/team", "value": "b"},
        {"op": "test", "path": "/metadata/labels/team", "value": "a"},
    ]

    response = _patch(kubeapi, "/api/v1/namespaces/default/secrets/s", ops, JSON_PATCH)

    assert response.status == 422
    assert response.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "the server rejected our request due to an error in our request",
        "reason": "Invalid",
        "details": {},
        "code": 422,
    }
    assert kubeapi.get_object("secrets", "default", "s") == before


def test_a_json_patch_on_a_missing_path_gives_422(kubeapi: KubeApiServer) -> None:
    _secret(kubeapi)

    response = _patch(
        kubeapi,
        "/api/v1/namespaces/default/secrets/s",
        [{"op": "remove", "path": "/metadata/labels/x"}],
        JSON_PATCH,
    )

    assert response.status == 422


def test_an_unknown_patch_content_type_gives_415(kubeapi: KubeApiServer) -> None:
    _secret(kubeapi)

    response = _patch(
        kubeapi, "/api/v1/namespaces/default/secrets/s", {"data": {}}, "application/json"
    )

    assert response.status == 415
    assert response.json()["reason"] == "UnsupportedMediaType"
    assert response.json()["message"] == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "
        "application/strategic-merge-patch+json"
    )


def test_a_patch_with_a_stale_resource_version_gives_409(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    first = _secret(kubeapi)
    core.patch_namespaced_secret("s", "default", {"metadata": {"labels": {"a": "b"}}})

    with pytest.raises(client.ApiException) as excinfo:
        core.patch_namespaced_secret(
            "s",
            "default",
            {
                "metadata": {
                    "resourceVersion": first["metadata"]["resourceVersion"],
                    "labels": {"c": "d"},
                }
            },
        )

    assert excinfo.value.status == 409
    assert status_of(excinfo.value)["reason"] == "Conflict"


def test_patching_a_missing_object_gives_404(core: client.CoreV1Api) -> None:
    with pytest.raises(client.ApiException) as excinfo:
        core.patch_namespaced_secret("nope", "default", {"metadata": {"labels": {"a": "b"}}})

    assert excinfo.value.status == 404
    assert status_of(excinfo.value)["message"] == 'secrets "nope" not found'


def test_a_patch_that_breaks_validation_gives_422(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    _secret(kubeapi)

    with pytest.raises(client.ApiException) as excinfo:
        core.patch_namespaced_secret("s", "default", {"type": "kubernetes.io/dockerconfigjson"})

    body = status_of(excinfo.value)
    assert body["code"] == 422
    assert [c["field"] for c in body["details"]["causes"]] == ["data[.dockerconfigjson]", "type"]
