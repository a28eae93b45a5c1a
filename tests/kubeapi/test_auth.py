"""Authentication by token and client certificate, per-token rules, and access reviews."""

from __future__ import annotations

import pytest
from kubernetes import client

from .clients import api_client, raw_request, status_of
from .server import KubeApiServer


def test_a_request_without_credentials_gets_the_401_status(kubeapi: KubeApiServer) -> None:
    response = raw_request(kubeapi, "GET", "/api/v1/namespaces", token=None)

    assert response.status == 401
    assert response.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }


def test_a_bad_token_gets_401_even_for_discovery(kubeapi: KubeApiServer) -> None:
    assert raw_request(kubeapi, "GET", "/version", token="wrong").status == 401


def test_a_namespace_limited_token_gets_403_elsewhere(kubeapi: KubeApiServer) -> None:
    kubeapi.add_token("bob-token", user="bob", namespaces=["team-a"])
    kubeapi.create_namespace("team-a")
    bob = client.CoreV1Api(api_client(kubeapi, token="bob-token"))

    assert bob.list_namespaced_secret("team-a").items == []
    with pytest.raises(client.ApiException) as excinfo:
        bob.list_namespaced_secret("default")

    assert excinfo.value.status == 403
    assert status_of(excinfo.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'secrets is forbidden: User "bob" cannot list resource "secrets" in API group '
        '"" in the namespace "default"',
        "reason": "Forbidden",
        "details": {"kind": "secrets"},
        "code": 403,
    }


def test_a_namespace_limited_token_cannot_list_at_the_cluster_scope(kubeapi: KubeApiServer) -> None:
    kubeapi.add_token("bob-token", user="bob", namespaces=["default"])
    bob = client.CoreV1Api(api_client(kubeapi, token="bob-token"))

    with pytest.raises(client.ApiException) as excinfo:
        bob.list_namespace()

    assert status_of(excinfo.value)["message"] == (
        'namespaces is forbidden: User "bob" cannot list resource "namespaces" in API group "" '
        "at the cluster scope"
    )


def test_a_forbidden_get_names_the_object(kubeapi: KubeApiServer) -> None:
    kubeapi.add_token("ro", user="viewer", verbs=["get", "list"], resources=["namespaces"])
    viewer = client.CoreV1Api(api_client(kubeapi, token="ro"))

    assert viewer.read_namespace("default").metadata.name == "default"
    with pytest.raises(client.ApiException) as excinfo:
        viewer.read_namespaced_secret("regcred", "default")

    assert status_of(excinfo.value)["message"] == (
        'secrets "regcred" is forbidden: User "viewer" cannot get resource "secrets" in API group '
        '"" in the namespace "default"'
    )
    assert status_of(excinfo.value)["details"] == {"name": "regcred", "kind": "secrets"}


def test_verb_limits_apply_to_writes(kubeapi: KubeApiServer) -> None:
    kubeapi.add_token("ro", user="viewer", verbs=["get", "list", "watch"])
    viewer = client.CoreV1Api(api_client(kubeapi, token="ro"))

    with pytest.raises(client.ApiException) as excinfo:
        viewer.create_namespaced_secret("default", {"metadata": {"name": "x"}})

    assert excinfo.value.status == 403
    assert kubeapi.get_object("secrets", "default", "x") is None


def test_forbidden_group_resources_are_qualified(kubeapi: KubeApiServer) -> None:
    kubeapi.add_token("t", user="bob", resources=["secrets"])
    bob = client.AppsV1Api(api_client(kubeapi, token="t"))

    with pytest.raises(client.ApiException) as excinfo:
        bob.list_namespaced_deployment("default")

    assert status_of(excinfo.value)["message"] == (
        'deployments.apps is forbidden: User "bob" cannot list resource "deployments" in API group '
        '"apps" in the namespace "default"'
    )


def test_a_client_certificate_authenticates_as_its_common_name(kubeapi: KubeApiServer) -> None:
    cert, key = kubeapi.issue_client_cert(cn="alice", groups=("devs", "admins"))
    alice = client.CoreV1Api(api_client(kubeapi, cert=cert, key=key))

    assert alice.list_namespace().items
    assert kubeapi.requests[-1].user == "alice"


def test_a_restricted_client_certificate_is_limited(kubeapi: KubeApiServer) -> None:
    cert, key = kubeapi.issue_client_cert(cn="carol", groups=(), namespaces=["kube-public"])
    carol = client.CoreV1Api(api_client(kubeapi, cert=cert, key=key))

    assert carol.list_namespaced_secret("kube-public").items == []
    with pytest.raises(client.ApiException) as excinfo:
        carol.list_namespaced_secret("default")
    assert 'User "carol"' in status_of(excinfo.value)["message"]


def test_self_subject_access_review_answers_per_token_rules(kubeapi: KubeApiServer) -> None:
    kubeapi.add_token("bob-token", user="bob", verbs=["create"], namespaces=["team-a"])
    auth = client.AuthorizationV1Api(api_client(kubeapi, token="bob-token"))

    def review(namespace: str, verb: str) -> client.V1SelfSubjectAccessReview:
        body = {
            "spec": {
                "resourceAttributes": {"namespace": namespace, "verb": verb, "resource": "secrets"}
            }
        }
        return auth.create_self_subject_access_review_with_http_info(body)

    yes, status, _ = review("team-a", "create")
    no, _, _ = review("default", "create")
    no_verb, _, _ = review("team-a", "delete")

    assert status == 201
    assert yes.status.allowed is True
    assert no.status.allowed is False
    assert no_verb.status.allowed is False
    assert yes.spec.resource_attributes.namespace == "team-a"


def test_self_subject_access_review_needs_attributes(kubeapi: KubeApiServer) -> None:
    response = raw_request(
        kubeapi, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {"spec": {}}
    )

    assert response.status == 422
