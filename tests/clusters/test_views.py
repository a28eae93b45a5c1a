"""Cluster, policy and sync-run pages: who may do what, and what people see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from clusters import services, sync
from clusters.models import PullSecretPolicy, SyncRun
from dashboard.models import AuditEvent


def policy_data(cluster, credential, **overrides):
    data = {
        "name": "web-pull",
        "credential": credential.pk,
        "target": f"cluster:{cluster.pk}",
        "secret_name": "web-regcred",
        "selection": "patterns",
        "patterns": "team-*",
        "exclusions": "kube-system kube-public kube-node-lease",
        "cover_new_namespaces": "on",
        "service_accounts": "none",
    }
    return data | overrides


@pytest.fixture
def scanned(kubeapi, cluster, policy):
    for name in ("team-a", "team-b", "other"):
        kubeapi.create_namespace(name)
    services.cluster_scan(cluster_id=cluster.pk)
    return cluster


def test_the_preview_lists_what_would_be_written_and_writes_nothing(
    operator_client, scanned, credential, kubeapi
):
    kubeapi.clear_requests()
    response = operator_client.post(
        reverse("clusters:policy-preview"), policy_data(scanned, credential)
    )
    html = response.content.decode()
    assert "2 namespaces covered, 5 left out" in html
    assert "team-a" in html and "team-b" in html and ">other<" not in html
    assert kubeapi.requests == [] and not PullSecretPolicy.objects.filter(name="web-pull").exists()


def test_the_preview_explains_a_bad_selector(operator_client, scanned, credential):
    response = operator_client.post(
        reverse("clusters:policy-preview"),
        policy_data(scanned, credential, selection="selector", label_selector="team in ()"),
    )
    assert "list at least one valid value" in response.content.decode()


def test_saving_a_policy_starts_its_first_sync(
    operator_client, scanned, credential, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = operator_client.post(
            reverse("clusters:policy-new"), policy_data(scanned, credential) | {"save": "1"}
        )
    policy = PullSecretPolicy.objects.get(name="web-pull")
    run = SyncRun.objects.get(policy=policy)
    assert response.url == reverse("clusters:run-detail", args=[run.pk])
    assert (policy.patterns, policy.secret_name) == (["team-*"], "web-regcred")
    assert len(callbacks) == 1
    assert AuditEvent.objects.filter(verb="policy.create", target_name="web-pull").exists()


def test_a_policy_form_with_errors_says_what_to_fix(operator_client, scanned, credential):
    response = operator_client.post(
        reverse("clusters:policy-new"),
        policy_data(scanned, credential, secret_name="Not_Valid", patterns="") | {"save": "1"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Kubernetes Secret names use lowercase letters" in html
    assert "Fill this in for the namespace choice you made." in html


def test_editing_a_policy_keeps_it_and_audits_the_change(
    operator_client, policy, credential, cluster
):
    response = operator_client.post(
        reverse("clusters:policy-edit", args=[policy.pk]),
        policy_data(cluster, credential, name="team-pull", secret_name="coding-regcred")
        | {"save": "1"},
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.selection == "patterns"
    assert "selection" in AuditEvent.objects.get(verb="policy.update").detail


def test_a_viewer_sees_policies_but_cannot_change_or_sync_them(
    viewer_client, policy, cluster, credential
):
    assert viewer_client.get(reverse("clusters:policy-detail", args=[policy.pk])).status_code == 200
    html = viewer_client.get(reverse("clusters:detail", args=[cluster.pk])).content.decode()
    assert "Sync now" not in html and "Scan now" not in html
    for name, args in [
        ("clusters:policy-new", []),
        ("clusters:policy-edit", [policy.pk]),
        ("clusters:policy-delete", [policy.pk]),
    ]:
        assert viewer_client.get(reverse(name, args=args)).status_code == 403
    for name, args in [
        ("clusters:policy-sync", [policy.pk]),
        ("clusters:sync", [cluster.pk]),
        ("clusters:scan", [cluster.pk]),
        ("clusters:check", [cluster.pk]),
        ("clusters:policy-preview", []),
    ]:
        assert viewer_client.post(reverse(name, args=args)).status_code == 403
    assert not SyncRun.objects.exists()


def test_deleting_a_policy_asks_first_and_leaves_the_cluster_alone(
    operator_client, policy, kubeapi
):
    page = operator_client.get(reverse("clusters:policy-delete", args=[policy.pk]))
    assert "stay where they are" in page.content.decode()
    kubeapi.clear_requests()
    operator_client.post(reverse("clusters:policy-delete", args=[policy.pk]))
    assert not PullSecretPolicy.objects.exists() and kubeapi.requests == []


def test_the_run_page_polls_while_running_and_stops_when_done(
    operator_client, cluster, policy, operator
):
    run = services.sync_run_start(actor=operator, clusters=[cluster], policy=policy)
    url = reverse("clusters:run-detail", args=[run.pk])

    polling = operator_client.get(url, HTTP_HX_REQUEST="true")
    assert polling.status_code == 200 and 'hx-trigger="every 1s"' in polling.content.decode()
    assert "<html" not in polling.content.decode()

    sync.sync_cluster(run_id=run.pk, cluster_id=cluster.pk)
    done = operator_client.get(url, HTTP_HX_REQUEST="true")
    assert done.status_code == 286 and "every 1s" not in done.content.decode()
    assert "Succeeded" in done.content.decode()


def test_the_run_page_shows_failures_first_and_offers_a_retry(
    operator_client, cluster, policy, kubeapi, operator
):
    from tests.kubeapi.server import Fault

    for name in ("aaa", "zzz"):
        kubeapi.create_namespace(name)
    kubeapi.faults.add(
        Fault(
            method="POST",
            path="/namespaces/zzz/secrets",
            status=403,
            message="secrets is forbidden: nope",
            times=None,
        )
    )
    run = services.sync_run_start(actor=operator, clusters=[cluster], policy=policy)
    sync.sync_cluster(run_id=run.pk, cluster_id=cluster.pk)

    html = operator_client.get(reverse("clusters:run-detail", args=[run.pk])).content.decode()
    assert html.index("zzz") < html.index("aaa")
    assert "Retry failed" in html and "secrets is forbidden: nope" in html

    response = operator_client.post(reverse("clusters:run-retry", args=[run.pk]))
    retry = SyncRun.objects.exclude(pk=run.pk).get()
    assert response.url == reverse("clusters:run-detail", args=[retry.pk])
    assert retry.only_namespaces == ["zzz"] and retry.trigger == "retry"


def test_the_cluster_page_filters_namespaces_by_status_and_name(viewer_client, scanned):
    url = reverse("clusters:detail", args=[scanned.pk])
    html = viewer_client.get(url, {"q": "team-a"}, HTTP_HX_REQUEST="true").content.decode()
    assert "team-a" in html and "team-b" not in html and "<html" not in html
    html = viewer_client.get(url, {"status": "in_sync"}).content.decode()
    assert "No namespace matches" in html


def test_the_cluster_list_shows_coverage(viewer_client, scanned, policy, operator):
    run = services.sync_run_start(actor=operator, clusters=[scanned], policy=policy)
    sync.sync_cluster(run_id=run.pk, cluster_id=scanned.pk)
    html = viewer_client.get(reverse("clusters:list")).content.decode()
    assert "4/7 namespaces" in html


def test_an_operator_queues_a_scan_from_the_cluster_page(
    operator_client, cluster, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        operator_client.post(reverse("clusters:scan", args=[cluster.pk]))
    assert len(callbacks) == 1
    assert AuditEvent.objects.filter(verb="cluster.scan", cluster=cluster.name).exists()
