"""Fault injection (errors, 429, drops, latency, slow responses) and the request log."""

from __future__ import annotations

import http.client
import time

import pytest
from kubernetes import client

from .clients import api_client, raw_request, status_of
from .server import Fault, KubeApiServer


def test_an_injected_500_fires_once_then_the_server_answers_normally(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    fault = kubeapi.faults.add(
        Fault(method="GET", path=r"^/api/v1/namespaces$", status=500, message="boom")
    )

    with pytest.raises(client.ApiException) as excinfo:
        core.list_namespace()
    names = [n.metadata.name for n in core.list_namespace().items]

    assert excinfo.value.status == 500
    assert status_of(excinfo.value)["message"] == "Internal error occurred: boom"
    assert status_of(excinfo.value)["reason"] == "InternalError"
    assert fault.hits == 1
    assert "default" in names


def test_a_429_carries_retry_after(kubeapi: KubeApiServer) -> None:
    kubeapi.faults.add(Fault(path="/secrets", status=429, retry_after=2))

    response = raw_request(kubeapi, "GET", "/api/v1/secrets")

    assert response.status == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["reason"] == "TooManyRequests"
    assert response.json()["details"] == {"retryAfterSeconds": 2}


def test_a_503_fault_uses_service_unavailable(kubeapi: KubeApiServer) -> None:
    kubeapi.faults.add(Fault(status=503, message="etcd is sad"))

    response = raw_request(kubeapi, "GET", "/api/v1/namespaces")

    assert (response.status, response.json()["reason"]) == (503, "ServiceUnavailable")


def test_faults_match_on_verb_and_can_fire_forever(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    kubeapi.faults.add(Fault(verb="create", path="/secrets", status=500, times=None))

    for _ in range(3):
        with pytest.raises(client.ApiException):
            core.create_namespaced_secret("default", {"metadata": {"name": "x"}})
    assert core.list_namespaced_secret("default").items == []

    kubeapi.faults.clear()
    core.create_namespaced_secret("default", {"metadata": {"name": "x"}})


def test_a_dropped_connection_gets_no_response_and_writes_nothing(kubeapi: KubeApiServer) -> None:
    kubeapi.faults.add(Fault(method="POST", action="drop"))

    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        raw_request(
            kubeapi, "POST", "/api/v1/namespaces/default/secrets", {"metadata": {"name": "x"}}
        )

    assert kubeapi.get_object("secrets", "default", "x") is None
    assert kubeapi.requests_matching(method="POST")[0].status == 0


def test_latency_delays_the_request_before_it_is_served(kubeapi: KubeApiServer) -> None:
    kubeapi.faults.add(Fault(action="latency", delay_ms=300))

    started = time.monotonic()
    response = raw_request(kubeapi, "GET", "/api/v1/namespaces")

    assert response.status == 200
    assert time.monotonic() - started >= 0.3


def test_a_slow_response_has_already_written_when_the_client_gives_up(
    kubeapi: KubeApiServer,
) -> None:
    kubeapi.faults.add(Fault(method="POST", action="slow", delay_ms=1000))

    with pytest.raises(TimeoutError):
        raw_request(
            kubeapi,
            "POST",
            "/api/v1/namespaces/default/secrets",
            {"metadata": {"name": "x"}},
            timeout=0.3,
        )

    assert kubeapi.get_object("secrets", "default", "x") is not None


def test_global_latency_applies_to_every_request(kubeapi: KubeApiServer) -> None:
    kubeapi.latency_ms = 150

    started = time.monotonic()
    raw_request(kubeapi, "GET", "/version")
    raw_request(kubeapi, "GET", "/api")

    assert time.monotonic() - started >= 0.3


def test_a_fault_rule_rejects_unknown_actions() -> None:
    with pytest.raises(ValueError, match="unknown fault action"):
        Fault(action="explode")


def test_the_request_log_records_verb_kind_namespace_user_and_status(
    kubeapi: KubeApiServer,
) -> None:
    core = client.CoreV1Api(api_client(kubeapi))
    core.list_secret_for_all_namespaces(field_selector="type=kubernetes.io/dockerconfigjson")
    core.create_namespaced_secret("default", {"metadata": {"name": "x"}})
    with pytest.raises(client.ApiException):
        core.read_namespaced_secret("nope", "kube-system")

    records = kubeapi.requests
    assert [(r.method, r.verb, r.kind, r.namespace, r.status) for r in records] == [
        ("GET", "list", "secrets", None, 200),
        ("POST", "create", "secrets", "default", 201),
        ("GET", "get", "secrets", "kube-system", 404),
    ]
    assert records[0].query["fieldSelector"] == "type=kubernetes.io/dockerconfigjson"
    assert records[1].user == "kubernetes-admin"
    assert records[1].user_agent.startswith("OpenAPI-Generator/")
    assert records[2].name == "nope"


def test_request_counts_and_matching(kubeapi: KubeApiServer, core: client.CoreV1Api) -> None:
    core.list_namespace()
    core.list_namespace()
    core.list_namespaced_secret("default")

    counts = kubeapi.request_counts()
    assert counts[("list", "namespaces")] == 2
    assert counts[("list", "secrets")] == 1
    assert (
        len(kubeapi.requests_matching(method="GET", path_prefix="/api/v1/namespaces/default")) == 1
    )

    kubeapi.clear_requests()
    assert kubeapi.requests == []
