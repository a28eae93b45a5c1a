"""The connection check after onboarding, against the fake API server over real HTTPS."""

from __future__ import annotations

import logging
import socket

import pytest
import yaml
from django.urls import reverse

from accounts import services
from clusters.checks import cluster_check
from clusters.models import Cluster
from dashboard.models import AuditEvent
from tests.accounts.certs import make_ca
from tests.factories import ClusterFactory, connection_json
from tests.kubeapi.server import Fault

pytestmark = pytest.mark.django_db

EVERY_PERMISSION = [
    "create secrets",
    "get secrets",
    "get serviceaccounts",
    "list cronjobs",
    "list daemonsets",
    "list deployments",
    "list namespaces",
    "list pods",
    "list secrets",
    "list serviceaccounts",
    "list statefulsets",
    "patch secrets",
    "patch serviceaccounts",
    "update secrets",
    "watch namespaces",
    "watch serviceaccounts",
]


def onboard(kubeconfig: dict | str) -> Cluster:
    text = kubeconfig if isinstance(kubeconfig, str) else yaml.safe_dump(kubeconfig)
    account = services.kubeconfig_account_create(actor=None, name="lab", kubeconfig=text)
    return account.clusters.get()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_cluster_with_every_permission_is_reachable_and_complete(kubeapi):
    cluster = onboard(kubeapi.kubeconfig())

    checked = cluster_check(cluster_id=cluster.pk)

    assert (checked.check_status, checked.version, checked.check_message) == ("ok", "v1.32.0", "")
    assert sorted(checked.permissions) == EVERY_PERMISSION
    assert all(checked.permissions.values())
    counts = kubeapi.request_counts()
    assert counts[("get", None)] == 1
    assert counts[("create", "selfsubjectaccessreviews")] == len(EVERY_PERMISSION)
    event = AuditEvent.objects.get(verb="cluster.check")
    assert (event.cluster, event.outcome) == ("fake", "success")


def test_missing_permissions_are_listed_with_the_rbac_that_grants_them(kubeapi, viewer_client):
    token = kubeapi.add_token(
        "read-only-token", user="reader", verbs=["get", "list", "watch"], resources=["*"]
    )
    cluster = onboard(kubeapi.kubeconfig(token=token))

    checked = cluster_check(cluster_id=cluster.pk)
    html = viewer_client.get(reverse("clusters:detail", args=[cluster.pk])).content.decode()

    assert checked.check_status == "ok"
    assert checked.missing_permissions == [
        "create secrets",
        "patch secrets",
        "patch serviceaccounts",
        "update secrets",
    ]
    assert checked.check_message == (
        "Missing permissions: create secrets, patch secrets, patch serviceaccounts, update secrets"
    )
    rbac = html[html.index("kind: ClusterRole") :]
    assert "- create" in rbac and "- update" in rbac and "- patch" in rbac
    assert "- list" not in rbac[: rbac.index("</")]


def test_a_token_the_cluster_does_not_know_is_an_error_saying_so(kubeapi):
    cluster = onboard(kubeapi.kubeconfig(token="nobody-knows-this"))

    checked = cluster_check(cluster_id=cluster.pk)

    assert checked.check_status == "error"
    assert checked.check_message == (
        f"The cluster at {kubeapi.url} did not accept the credentials (401 Unauthorized)."
    )
    assert AuditEvent.objects.get(verb="cluster.check").outcome == "failure"


def test_a_client_certificate_the_cluster_does_not_trust_is_refused(kubeapi):
    stranger = make_ca("someone else's CA").issue_client("mallory")
    cluster = onboard(kubeapi.kubeconfig(cert=stranger.cert_pem, key=stranger.key_pem))

    checked = cluster_check(cluster_id=cluster.pk)

    assert checked.check_status in ("error", "unreachable")
    assert checked.version == ""
    assert not kubeapi.requests_matching(user="mallory")


def test_a_server_certificate_from_another_ca_fails_the_tls_check(kubeapi):
    document = kubeapi.kubeconfig()
    document["clusters"][0]["cluster"]["certificate-authority-data"] = make_ca("other").b64
    cluster = onboard(document)

    checked = cluster_check(cluster_id=cluster.pk)

    assert checked.check_status == "unreachable"
    assert checked.check_message == (
        f"TLS to {kubeapi.url} failed: certificate verify failed: "
        "self-signed certificate in certificate chain. "
        "Check the CA certificate."
    )
    assert kubeapi.requests == []


def test_the_tls_server_name_is_the_name_the_certificate_is_checked_for(kubeapi):
    right = kubeapi.kubeconfig(context="right")
    right["clusters"][0]["cluster"]["tls-server-name"] = "localhost"
    wrong = kubeapi.kubeconfig(context="wrong")
    wrong["clusters"][0]["cluster"]["tls-server-name"] = "api.example.com"
    for section in ("clusters", "users", "contexts"):
        right[section] += wrong[section]
    account = services.kubeconfig_account_create(
        actor=None, name="lab", kubeconfig=yaml.safe_dump(right)
    )

    outcomes = {c.name: cluster_check(cluster_id=c.pk) for c in account.clusters.all()}

    assert outcomes["right"].check_status == "ok"
    assert outcomes["wrong"].check_status == "unreachable"
    assert outcomes["wrong"].check_message == (
        f"TLS to {kubeapi.url} failed: certificate verify failed: Hostname mismatch, "
        "certificate is not valid for 'api.example.com'. Check the CA certificate."
    )


def test_nothing_listening_is_unreachable_and_says_where(kubeapi):
    document = kubeapi.kubeconfig()
    server = f"https://127.0.0.1:{closed_port()}"
    document["clusters"][0]["cluster"]["server"] = server
    cluster = onboard(document)

    checked = cluster_check(cluster_id=cluster.pk)

    assert checked.check_status == "unreachable"
    assert checked.check_message == f"Could not reach {server}: Connection refused"


def test_one_server_error_is_retried(kubeapi):
    cluster = onboard(kubeapi.kubeconfig())
    kubeapi.faults.add(Fault(path="^/version$", status=503, times=1))

    checked = cluster_check(cluster_id=cluster.pk)

    assert checked.check_status == "ok"
    assert [r.status for r in kubeapi.requests_matching(path_prefix="/version")] == [503, 200]


def test_a_server_that_keeps_failing_is_reported_unreachable(kubeapi):
    cluster = onboard(kubeapi.kubeconfig())
    kubeapi.faults.add(Fault(path="^/version$", status=503, times=None, message="etcd is down"))

    checked = cluster_check(cluster_id=cluster.pk)

    assert checked.check_status == "unreachable"
    assert checked.check_message == "The cluster answered 503: etcd is down"


def test_a_stored_connection_that_cannot_be_used_ends_the_check_with_an_error(caplog):
    cluster = ClusterFactory(
        check_status=Cluster.Check.CHECKING,
        connection=connection_json(ca_pem="-----BEGIN CERTIFICATE-----\nbroken\n"),
    )

    with caplog.at_level(logging.ERROR):
        checked = cluster_check(cluster_id=cluster.pk)

    assert checked.check_status == "error"
    assert checked.check_message.startswith("Internal error while checking the cluster: ")
    assert f"connection check of cluster {cluster.pk} crashed" in caplog.text


def test_checking_a_cluster_deleted_meanwhile_does_nothing():
    assert cluster_check(cluster_id=987654) is None
