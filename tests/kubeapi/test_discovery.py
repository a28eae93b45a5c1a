"""Discovery documents, routing and unknown paths."""

from __future__ import annotations

from kubernetes import client

from .clients import api_client, raw_request
from .server import KubeApiServer


def test_version_says_1_32_so_the_kubectl_dispatcher_picks_1_32(kubeapi: KubeApiServer) -> None:
    body = raw_request(kubeapi, "GET", "/version").json()

    assert (body["major"], body["minor"], body["gitVersion"]) == ("1", "32", "v1.32.0")


def test_the_python_client_reads_the_version(kubeapi: KubeApiServer) -> None:
    assert client.VersionApi(api_client(kubeapi)).get_code().minor == "32"


def test_core_discovery_lists_the_served_resources(kubeapi: KubeApiServer) -> None:
    api = raw_request(kubeapi, "GET", "/api").json()
    v1 = raw_request(kubeapi, "GET", "/api/v1").json()

    assert api["kind"] == "APIVersions" and api["versions"] == ["v1"]
    assert v1["kind"] == "APIResourceList" and "apiVersion" not in v1
    by_name = {r["name"]: r for r in v1["resources"]}
    assert set(by_name) == {"namespaces", "secrets", "serviceaccounts", "pods"}
    assert by_name["namespaces"]["namespaced"] is False
    assert by_name["namespaces"]["shortNames"] == ["ns"]
    assert by_name["serviceaccounts"]["shortNames"] == ["sa"]
    assert "watch" in by_name["secrets"]["verbs"]


def test_group_discovery_covers_apps_batch_and_authorization(kubeapi: KubeApiServer) -> None:
    groups = raw_request(kubeapi, "GET", "/apis").json()
    apps = raw_request(kubeapi, "GET", "/apis/apps/v1").json()
    batch = raw_request(kubeapi, "GET", "/apis/batch/v1").json()
    authz = raw_request(kubeapi, "GET", "/apis/authorization.k8s.io/v1").json()

    assert [g["name"] for g in groups["groups"]] == ["apps", "batch", "authorization.k8s.io"]
    assert {r["name"] for r in apps["resources"]} == {"deployments", "statefulsets", "daemonsets"}
    assert {r["name"] for r in batch["resources"]} == {"jobs", "cronjobs"}
    assert [r["kind"] for r in authz["resources"]] == ["SelfSubjectAccessReview"]


def test_unknown_paths_get_a_404_status(kubeapi: KubeApiServer) -> None:
    for path in ("/api/v1/configmaps", "/apis/extensions/v1beta1", "/openapi/v3", "/nope"):
        response = raw_request(kubeapi, "GET", path)

        assert response.status == 404, path
        assert response.json()["reason"] == "NotFound"


def test_workload_kinds_are_served(kubeapi: KubeApiServer) -> None:
    batch = client.BatchV1Api(api_client(kubeapi))
    job = {
        "metadata": {"name": "once"},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox"}],
                }
            }
        },
    }

    created = batch.create_namespaced_job("default", job)

    assert created.metadata.generation == 1
    assert [j.metadata.name for j in batch.list_job_for_all_namespaces().items] == ["once"]


def test_workloads_are_validated(kubeapi: KubeApiServer) -> None:
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {}}

    response = raw_request(kubeapi, "POST", "/apis/apps/v1/namespaces/default/deployments", body)

    assert response.status == 422
    status = response.json()
    assert status["details"]["group"] == "apps"
    assert status["message"] == (
        'Deployment.apps "web" is invalid: [spec.selector: Required value, '
        "spec.template.spec.containers: Required value]"
    )


def test_a_wrong_method_gives_405(kubeapi: KubeApiServer) -> None:
    put_collection = raw_request(
        kubeapi, "PUT", "/api/v1/namespaces/default/secrets", {"metadata": {}}
    )
    post_object = raw_request(
        kubeapi, "POST", "/api/v1/namespaces/default/secrets/x", {"metadata": {}}
    )

    assert put_collection.status == post_object.status == 405
    assert put_collection.json()["reason"] == "MethodNotAllowed"
