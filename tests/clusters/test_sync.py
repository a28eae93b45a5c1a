"""Syncing pull Secrets into a cluster with the real client, against tests/kubeapi (HTTPS)."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import threading
import time

import pytest

from clusters import services, sync
from clusters.models import PullSecretPolicy, SecretStatus, SyncResult, SyncRun
from clusters.scan import CHECKSUM_ANNOTATION, MANAGED_BY, MANAGED_BY_LABEL
from tests.clusters.conftest import PASSWORD
from tests.kubeapi.server import Fault

TEAM = [f"team-{i:02d}" for i in range(40)]


@pytest.fixture
def forty(kubeapi):
    for name in TEAM:
        kubeapi.create_namespace(name)
    return TEAM


def run_sync(cluster, policy=None, actor=None, **options) -> SyncRun:
    run = services.sync_run_start(actor=actor, clusters=[cluster], policy=policy, **options)
    sync.sync_cluster(run_id=run.pk, cluster_id=cluster.pk)
    run.refresh_from_db()
    return run


def writes(kubeapi) -> list:
    return [
        r
        for r in kubeapi.requests
        if r.method in ("POST", "PUT", "PATCH", "DELETE") and r.kind != "selfsubjectaccessreviews"
    ]


def secret(kubeapi, namespace, name="coding-regcred"):
    return kubeapi.get_object("secrets", namespace, name)


def put_unmanaged_secret(kubeapi) -> None:
    """A Secret of the policy's name in default that someone made with kubectl, not us."""
    kubeapi.put_object(
        "secrets",
        {
            "metadata": {"name": "coding-regcred", "namespace": "default"},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": base64.b64encode(b'{"auths":{}}').decode()},
        },
        namespace="default",
        manager="kubectl-create",
    )


def dockerconfig(obj) -> dict:
    return json.loads(base64.b64decode(obj["data"][".dockerconfigjson"]))


def test_it_creates_the_secret_in_every_namespace_but_the_system_ones(
    kubeapi, cluster, policy, forty
):
    run = run_sync(cluster, policy)

    assert (run.state, run.created_count, run.failed_count, run.total) == ("succeeded", 41, 0, 41)
    for name in [*forty, "default"]:
        obj = secret(kubeapi, name)
        assert obj["type"] == "kubernetes.io/dockerconfigjson"
        assert obj["metadata"]["labels"][MANAGED_BY_LABEL] == MANAGED_BY
        auths = dockerconfig(obj)["auths"]["team-docker.pkg.coding.net"]
        assert auths["password"] == PASSWORD and auths["username"] == "ci@example.com"
    for system in ("kube-system", "kube-public", "kube-node-lease"):
        assert secret(kubeapi, system) is None
    assert SecretStatus.objects.filter(policy=policy, status="in_sync").count() == 41


def test_it_scans_with_a_constant_number_of_list_calls(kubeapi, cluster, policy, forty):
    kubeapi.clear_requests()
    services.cluster_scan(cluster_id=cluster.pk)
    small = sorted(kubeapi.request_counts().items())
    for i in range(200):
        kubeapi.create_namespace(f"more-{i:03d}")
    kubeapi.clear_requests()
    services.cluster_scan(cluster_id=cluster.pk)
    large = sorted(kubeapi.request_counts().items())

    assert small == large
    assert large == [
        (("list", "cronjobs"), 1),
        (("list", "daemonsets"), 1),
        (("list", "deployments"), 1),
        (("list", "namespaces"), 1),
        (("list", "pods"), 1),
        (("list", "secrets"), 2),
        (("list", "serviceaccounts"), 1),
        (("list", "statefulsets"), 1),
    ]


def test_it_pages_through_long_lists(kubeapi, cluster, policy):
    for i in range(1100):
        kubeapi.create_namespace(f"ns-{i:04d}")
    kubeapi.clear_requests()

    outcome = services.cluster_scan(cluster_id=cluster.pk)

    pages = kubeapi.requests_matching(path_prefix="/api/v1/namespaces", verb="list")
    assert outcome.namespaces == 1104
    assert len(pages) == 3 and pages[0].query["limit"] == "500"
    assert "continue" in pages[1].query


def test_the_secret_is_what_kubectl_create_secret_docker_registry_makes(
    kubeapi, cluster, policy, tmp_path
):
    run_sync(cluster, policy)
    ours = secret(kubeapi, "default")
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed; cannot compare with its output")
    kubeapi.write_kubeconfig(tmp_path / "config")
    result = subprocess.run(
        [
            kubectl,
            "--kubeconfig",
            str(tmp_path / "config"),
            "--cache-dir",
            str(tmp_path),
            "create",
            "secret",
            "docker-registry",
            "coding-regcred",
            "-n",
            "default",
            "--docker-server=team-docker.pkg.coding.net",
            "--docker-username=ci@example.com",
            f"--docker-password={PASSWORD}",
            "--docker-email=ci@example.com",
            "--dry-run=client",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin"},
    )
    assert result.returncode == 0, result.stderr
    theirs = json.loads(result.stdout)
    assert ours["data"] == theirs["data"]
    assert base64.b64decode(ours["data"][".dockerconfigjson"]) == base64.b64decode(
        theirs["data"][".dockerconfigjson"]
    )
    assert (ours["type"], ours["metadata"]["name"]) == (theirs["type"], theirs["metadata"]["name"])


def test_a_second_run_writes_nothing(kubeapi, cluster, policy, forty):
    run_sync(cluster, policy)
    kubeapi.clear_requests()

    again = run_sync(cluster, policy)

    assert writes(kubeapi) == []
    assert (again.state, again.unchanged_count, again.created_count) == ("succeeded", 41, 0)


def test_a_deleted_secret_is_found_missing_and_recreated(
    kubeapi, cluster, policy, forty, kubectl_api
):
    run_sync(cluster, policy)
    kubectl_api.delete_namespaced_secret("coding-regcred", "team-05")

    services.cluster_scan(cluster_id=cluster.pk)
    status = SecretStatus.objects.get(policy=policy, namespace__name="team-05")
    assert status.status == "missing"

    run = run_sync(cluster, policy)
    assert run.created_count == 1 and run.unchanged_count == 40
    assert secret(kubeapi, "team-05") is not None


def test_an_edited_secret_is_stale_names_who_edited_it_and_is_repaired_in_place(
    kubeapi, cluster, policy, forty
):
    run_sync(cluster, policy)
    edited = secret(kubeapi, "team-07")
    edited["data"][".dockerconfigjson"] = base64.b64encode(
        b'{"auths":{"team-docker.pkg.coding.net":{"username":"x","password":"old"}}}'
    ).decode()
    kubeapi.put_object("secrets", edited, namespace="team-07", manager="kubectl-edit")

    services.cluster_scan(cluster_id=cluster.pk)
    status = SecretStatus.objects.get(policy=policy, namespace__name="team-07")
    assert (status.status, status.last_manager) == ("stale", "kubectl-edit")
    kubeapi.clear_requests()

    run = run_sync(cluster, policy)

    assert run.updated_count == 1
    assert "kubectl-edit" in run.results.get(outcome="updated").reason
    assert [(r.method, r.namespace) for r in writes(kubeapi)] == [("PATCH", "team-07")]
    assert (
        dockerconfig(secret(kubeapi, "team-07"))["auths"]["team-docker.pkg.coding.net"]["password"]
        == PASSWORD
    )
    # Updated in place: the Secret never went away, so no pull could fail in between.
    history = [h for h in kubeapi.history if h.kind == "secrets" and h.namespace == "team-07"]
    assert "delete" not in [h.verb for h in history]


def test_an_unmanaged_secret_is_left_alone_and_reported(kubeapi, cluster, policy):
    put_unmanaged_secret(kubeapi)
    kubeapi.clear_requests()

    run = run_sync(cluster, policy)

    result = run.results.get(namespace="default")
    assert result.outcome == "skipped" and "kubectl-create" in result.reason
    assert writes(kubeapi) == []
    assert SecretStatus.objects.get(namespace__name="default").status == "unmanaged"


def test_an_unmanaged_secret_is_adopted_when_the_policy_says_so(kubeapi, cluster, policy):
    put_unmanaged_secret(kubeapi)
    PullSecretPolicy.objects.filter(pk=policy.pk).update(adopt_unmanaged=True)

    run = run_sync(cluster, policy)

    assert run.results.get(namespace="default").outcome == "updated"
    adopted = secret(kubeapi, "default")
    assert adopted["metadata"]["labels"][MANAGED_BY_LABEL] == MANAGED_BY
    assert CHECKSUM_ANNOTATION in adopted["metadata"]["annotations"]


def test_a_vendor_key_for_the_same_registry_counts_as_covered(kubeapi, cluster, credential, policy):
    vendor = {"auths": {"https://team-docker.pkg.coding.net/": {"auth": "eDp5"}}}
    kubeapi.put_object(
        "secrets",
        {
            "metadata": {"name": "qcloudregistrykey", "namespace": "default"},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": base64.b64encode(json.dumps(vendor).encode()).decode()},
        },
        namespace="default",
        manager="tke",
    )

    services.cluster_scan(cluster_id=cluster.pk)

    assert SecretStatus.objects.get(namespace__name="default").status == "covered_by_vendor"


def test_the_service_account_is_patched_without_losing_its_entries(kubeapi, cluster, policy):
    sa = kubeapi.get_object("serviceaccounts", "default", "default")
    sa["imagePullSecrets"] = [{"name": "someone-elses"}]
    kubeapi.put_object("serviceaccounts", sa, namespace="default")
    PullSecretPolicy.objects.filter(pk=policy.pk).update(service_accounts="default")

    run = run_sync(cluster, policy)

    patched = kubeapi.get_object("serviceaccounts", "default", "default")
    assert patched["imagePullSecrets"] == [{"name": "someone-elses"}, {"name": "coding-regcred"}]
    assert run.results.get(namespace="default").service_accounts == "default"
    assert SecretStatus.objects.get(namespace__name="default").service_accounts_ok


def test_every_service_account_is_patched_when_asked(kubeapi, cluster, policy):
    for name in ("builder", "deployer"):
        kubeapi.put_object(
            "serviceaccounts",
            {"metadata": {"name": name, "namespace": "default"}},
            namespace="default",
        )
    PullSecretPolicy.objects.filter(pk=policy.pk).update(service_accounts="all")

    run_sync(cluster, policy)

    for name in ("builder", "default", "deployer"):
        refs = kubeapi.get_object("serviceaccounts", "default", name)["imagePullSecrets"]
        assert refs == [{"name": "coding-regcred"}]


def test_a_service_account_changed_meanwhile_is_reread_and_patched(kubeapi, cluster, policy):
    PullSecretPolicy.objects.filter(pk=policy.pk).update(service_accounts="default")
    kubeapi.faults.add(
        Fault(
            method="PATCH",
            path="/serviceaccounts/default",
            status=409,
            message="the object has been modified",
            times=1,
        )
    )

    run = run_sync(cluster, policy)

    assert run.state == "succeeded"
    refs = kubeapi.get_object("serviceaccounts", "default", "default")["imagePullSecrets"]
    assert refs == [{"name": "coding-regcred"}]


@pytest.mark.parametrize(
    "fault",
    [
        Fault(method="POST", path="/namespaces/team-03/secrets", status=429, retry_after=1),
        Fault(method="POST", path="/namespaces/team-03/secrets", status=500),
        Fault(method="POST", path="/namespaces/team-03/secrets", status=503),
        Fault(method="POST", path="/namespaces/team-03/secrets", action="drop"),
    ],
    ids=["429-retry-after", "500", "503", "dropped-connection"],
)
def test_transient_faults_are_retried(kubeapi, cluster, policy, forty, fault):
    kubeapi.faults.add(fault)

    run = run_sync(cluster, policy)

    assert fault.hits == 1
    assert (run.state, run.failed_count) == ("succeeded", 0)
    assert secret(kubeapi, "team-03") is not None
    assert len(kubeapi.requests_matching(method="POST", namespace="team-03")) == 2


def test_retry_after_is_honoured(kubeapi, cluster, policy):
    kubeapi.faults.add(
        Fault(method="POST", path="/namespaces/default/secrets", status=429, retry_after=1)
    )

    run_sync(cluster, policy)

    posts = kubeapi.requests_matching(method="POST", namespace="default")
    assert len(posts) == 2 and posts[1].time - posts[0].time >= 0.9


def test_a_forbidden_namespace_fails_with_the_permission_named(kubeapi, cluster, policy, forty):
    message = (
        'secrets is forbidden: User "bob" cannot create resource "secrets" in API group '
        '"" in the namespace "team-03"'
    )
    kubeapi.faults.add(
        Fault(
            method="POST",
            path="/namespaces/team-03/secrets",
            status=403,
            message=message,
            times=None,
        )
    )

    run = run_sync(cluster, policy)

    failed = run.results.get(outcome="failed")
    assert failed.namespace == "team-03" and 'cannot create resource "secrets"' in failed.reason
    assert len(kubeapi.requests_matching(method="POST", namespace="team-03")) == 1
    assert (run.state, run.failed_count, run.created_count) == ("partial", 1, 40)


def test_a_namespace_deleted_mid_run_is_skipped(kubeapi, cluster, policy, forty):
    kubeapi.faults.add(
        Fault(method="POST", path="/namespaces/team-09/secrets", action="latency", delay_ms=1000)
    )

    def delete_once_the_scan_is_done():
        # Pods are the scan's last list; after it the sync's writes are on their way.
        deadline = time.monotonic() + 20
        while not kubeapi.requests_matching(verb="list", kind="pods"):
            if time.monotonic() > deadline:
                return
            time.sleep(0.005)
        kubeapi.delete_namespace("team-09")

    threading.Thread(target=delete_once_the_scan_is_done, daemon=True).start()

    run = run_sync(cluster, policy)

    skipped = run.results.get(namespace="team-09")
    assert skipped.outcome == "skipped" and "no longer exists" in skipped.reason
    assert run.state == "succeeded"


def test_a_concurrent_create_converges_instead_of_failing(kubeapi, cluster, policy):
    from clusters.connection import cluster_client
    from clusters.scan import desired_for, take_snapshot

    with cluster_client(cluster) as client:
        snapshot = take_snapshot(client)
        want = desired_for(policy)
        kubeapi.put_object(
            "secrets",
            sync.secret_manifest(want, "default"),
            namespace="default",
            manager=MANAGED_BY,
        )
        result = sync.apply_target(client, snapshot, want, "default")

    assert result.outcome == "unchanged"
    assert len(kubeapi.requests_matching(method="POST", namespace="default", status=409)) == 1


def test_a_cluster_that_refuses_our_token_fails_the_run_at_once(kubeapi, cluster, policy, account):
    from tests.clusters.conftest import cluster_for

    locked = cluster_for(kubeapi, account, name="locked", token="not-a-valid-token")
    PullSecretPolicy.objects.filter(pk=policy.pk).update(cluster=locked)

    run = run_sync(locked, PullSecretPolicy.objects.get(pk=policy.pk))

    assert run.state == "failed"
    assert "did not accept the credentials" in run.results.get().reason


def test_running_a_cluster_twice_counts_it_once(kubeapi, cluster, policy, forty):
    run = run_sync(cluster, policy)
    sync.sync_cluster(run_id=run.pk, cluster_id=cluster.pk)
    run.refresh_from_db()
    assert (run.total, run.created_count, run.clusters_done) == (41, 41, 1)


def test_a_redelivered_task_starts_its_cluster_over(kubeapi, cluster, policy, forty):
    run = services.sync_run_start(actor=None, clusters=[cluster], policy=policy)
    SyncResult.objects.create(
        run=run,
        cluster=cluster,
        namespace="team-00",
        secret_name="coding-regcred",
        outcome="failed",
        reason="half done",
    )
    SyncRun.objects.filter(pk=run.pk).update(state="running", failed_count=1)

    sync.sync_cluster(run_id=run.pk, cluster_id=cluster.pk)

    run.refresh_from_db()
    assert (run.state, run.failed_count, run.created_count) == ("succeeded", 0, 41)


def test_retry_failed_syncs_only_the_failed_namespaces(kubeapi, cluster, policy, forty):
    kubeapi.faults.add(
        Fault(method="POST", path="/namespaces/team-03/secrets", status=403, times=1)
    )
    first = run_sync(cluster, policy)
    assert first.failed_count == 1

    retry = services.sync_run_retry_failed(actor=None, run=first)
    sync.sync_cluster(run_id=retry.pk, cluster_id=cluster.pk)
    retry.refresh_from_db()

    assert retry.only_namespaces == ["team-03"]
    assert (retry.state, retry.total, retry.created_count) == ("succeeded", 1, 1)


def test_a_run_whose_worker_stopped_reporting_is_marked_failed(cluster, policy):
    from django.utils import timezone

    run = services.sync_run_start(actor=None, clusters=[cluster], policy=policy)
    SyncRun.objects.filter(pk=run.pk).update(
        state="running", heartbeat_at=timezone.now() - timezone.timedelta(minutes=30)
    )
    fresh = services.sync_run_start(actor=None, clusters=[cluster], policy=policy)
    SyncRun.objects.filter(pk=fresh.pk).update(state="running", heartbeat_at=timezone.now())

    assert sync.reap_stale_runs(older_than=600) == 1

    run.refresh_from_db()
    assert run.state == "failed" and "stopped responding" in run.error
    assert SyncRun.objects.get(pk=fresh.pk).state == "running"


def test_a_run_with_no_clusters_finishes_at_once(policy):
    run = services.sync_run_start(actor=None, clusters=[], policy=policy)
    assert run.state == "succeeded" and run.finished_at is not None


def test_a_failed_namespace_shows_as_error_with_the_reason(kubeapi, cluster, policy):
    kubeapi.faults.add(
        Fault(
            method="POST",
            path="/namespaces/default/secrets",
            status=403,
            message="secrets is forbidden: no create",
            times=None,
        )
    )
    run_sync(cluster, policy)
    status = SecretStatus.objects.get(namespace__name="default")
    assert (status.status, status.message) == (
        "error",
        "Permission denied: secrets is forbidden: no create",
    )


def test_the_periodic_scan_covers_a_new_namespace(
    kubeapi, cluster, policy, settings, django_capture_on_commit_callbacks
):
    from dashboard.celery import app

    services.cluster_scan(cluster_id=cluster.pk)
    kubeapi.create_namespace("team-late")
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            outcome = services.cluster_scan(cluster_id=cluster.pk)
    finally:
        app.conf.task_always_eager = False

    assert outcome.new_namespaces == ["team-late"]
    run = SyncRun.objects.get(trigger="scan")
    assert (run.only_namespaces, run.state, run.created_count) == (["team-late"], "succeeded", 1)
    assert secret(kubeapi, "team-late") is not None


def test_a_policy_without_cover_new_namespaces_waits_for_the_next_sync(
    kubeapi, cluster, policy, django_capture_on_commit_callbacks
):
    PullSecretPolicy.objects.filter(pk=policy.pk).update(cover_new_namespaces=False)
    services.cluster_scan(cluster_id=cluster.pk)
    kubeapi.create_namespace("team-late")
    with django_capture_on_commit_callbacks() as callbacks:
        services.cluster_scan(cluster_id=cluster.pk)
    assert callbacks == [] and not SyncRun.objects.exists()
    assert SecretStatus.objects.get(namespace__name="team-late").status == "missing"


def test_a_namespace_that_disappears_is_marked_gone_not_forgotten(kubeapi, cluster, policy):
    from clusters.models import Namespace

    kubeapi.create_namespace("short-lived")
    services.cluster_scan(cluster_id=cluster.pk)
    kubeapi.delete_namespace("short-lived")
    outcome = services.cluster_scan(cluster_id=cluster.pk)

    assert outcome.gone_namespaces == ["short-lived"]
    assert Namespace.objects.get(name="short-lived").gone is True
    assert not SecretStatus.objects.filter(namespace__name="short-lived").exists()


def test_the_beat_task_queues_a_scan_per_known_cluster(cluster, settings):
    from clusters.tasks import scan_all_clusters

    assert scan_all_clusters.apply().get() == 1
    assert settings.CELERY_BEAT_SCHEDULE["scan-every-cluster"]["schedule"] == float(
        settings.REGCRED_SCAN_INTERVAL
    )


def test_a_sync_is_audited_per_cluster_and_each_adoption_on_its_own(
    kubeapi, cluster, policy, operator
):
    from dashboard.models import AuditEvent

    put_unmanaged_secret(kubeapi)
    PullSecretPolicy.objects.filter(pk=policy.pk).update(adopt_unmanaged=True)

    run_sync(cluster, PullSecretPolicy.objects.get(pk=policy.pk), actor=operator)

    adopt = AuditEvent.objects.get(verb="secret.adopt")
    assert (adopt.actor, adopt.cluster, adopt.namespace) == (operator, "fake-cluster", "default")
    summary = AuditEvent.objects.get(verb="sync.cluster")
    assert summary.outcome == "success" and summary.detail == "1 updated"


def test_on_a_same_second_tie_the_other_writer_is_named():
    from clusters.scan import _last_change

    meta = {
        "managedFields": [
            {"manager": "kubectl-edit", "time": "2026-01-01T10:42:00Z"},
            {"manager": MANAGED_BY, "time": "2026-01-01T10:42:00Z"},
            {"manager": "helm", "time": "2026-01-01T10:41:59Z"},
        ]
    }
    assert _last_change(meta) == ("kubectl-edit", "2026-01-01T10:42:00Z")
    assert _last_change({"creationTimestamp": "2026-01-01T09:00:00Z"}) == (
        "",
        "2026-01-01T09:00:00Z",
    )
