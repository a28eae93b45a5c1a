"""The watcher covers a new namespace in seconds, without waiting for the periodic scan."""

from __future__ import annotations

import threading
import time

import pytest
from kubernetes import client as k8s

from clusters import services
from clusters.models import Namespace, PullSecretPolicy, SyncRun
from clusters.watcher import Watch, Watcher

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def eager(settings):
    # The sync the watcher queues runs at once in the watcher's thread, as a worker would.
    from dashboard.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def running(cluster):
    watches = []

    def start(resource: str) -> Watch:
        watch = Watch(cluster.pk, resource, watch_seconds=5)
        thread = threading.Thread(target=watch.run, daemon=True)
        thread.start()
        watches.append((watch, thread))
        # Wait until the watch is established (it lists first to learn where "now" is).
        deadline = time.monotonic() + 10
        while not watch.resource_version and time.monotonic() < deadline:
            time.sleep(0.05)
        return watch

    yield start
    for watch, thread in watches:
        watch.stop.set()
        thread.join(7)


def wait_for_secret(kubeapi, namespace, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if kubeapi.get_object("secrets", namespace, "coding-regcred"):
            return True
        time.sleep(0.02)
    return False


def test_a_new_namespace_gets_its_secret_within_seconds(
    kubeapi, cluster, policy, kubectl_api, eager, running
):
    services.cluster_scan(cluster_id=cluster.pk)
    running("namespaces")

    started = time.monotonic()
    kubectl_api.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name="team-new")))
    assert wait_for_secret(kubeapi, "team-new")
    elapsed = time.monotonic() - started

    deadline = time.monotonic() + 10
    while not SyncRun.objects.filter(trigger="watch", state="succeeded").exists():
        if time.monotonic() > deadline:
            pytest.fail("the watcher's sync did not finish")
        time.sleep(0.05)
    run = SyncRun.objects.get(trigger="watch")
    assert run.only_namespaces == ["team-new"] and run.created_count == 1
    assert Namespace.objects.filter(cluster=cluster, name="team-new").exists()
    print(f"namespace created -> Secret present: {elapsed * 1000:.0f} ms")


def test_existing_namespaces_do_not_trigger_syncs(kubeapi, cluster, policy, eager, running):
    kubeapi.create_namespace("already-here")
    running("namespaces")
    time.sleep(0.5)
    assert not SyncRun.objects.exists()


def test_a_namespace_outside_the_policy_is_ignored(
    kubeapi, cluster, policy, kubectl_api, eager, running
):
    PullSecretPolicy.objects.filter(pk=policy.pk).update(selection="patterns", patterns=["team-*"])
    running("namespaces")
    kubectl_api.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name="other")))
    kubectl_api.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name="team-b")))
    assert wait_for_secret(kubeapi, "team-b")
    assert kubeapi.get_object("secrets", "other", "coding-regcred") is None


def test_a_new_service_account_is_patched(kubeapi, cluster, policy, kubectl_api, eager, running):
    PullSecretPolicy.objects.filter(pk=policy.pk).update(service_accounts="all")
    running("serviceaccounts")
    kubectl_api.create_namespaced_service_account(
        "default", k8s.V1ServiceAccount(metadata=k8s.V1ObjectMeta(name="builder"))
    )

    deadline = time.monotonic() + 15
    refs = None
    while time.monotonic() < deadline:
        refs = (kubeapi.get_object("serviceaccounts", "default", "builder") or {}).get(
            "imagePullSecrets"
        )
        if refs:
            break
        time.sleep(0.05)
    assert refs == [{"name": "coding-regcred"}]


def test_an_expired_resource_version_relists_and_keeps_watching(
    kubeapi, cluster, policy, kubectl_api, eager, running, django_capture_on_commit_callbacks
):
    watch = running("namespaces")
    watch.stop.set()  # let this loop end; restart from a resourceVersion that is too old
    kubeapi.compact()
    stale = Watch(cluster.pk, "namespaces", watch_seconds=5, resource_version="1")
    thread = threading.Thread(target=stale.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while stale.resource_version in ("", "1") and time.monotonic() < deadline:
            time.sleep(0.05)
        kubectl_api.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name="after")))
        assert wait_for_secret(kubeapi, "after")
    finally:
        stale.stop.set()
        thread.join(7)


def test_the_watcher_follows_reachable_clusters_only(kubeapi, cluster, account):
    from tests.clusters.conftest import cluster_for

    broken = cluster_for(kubeapi, account, name="broken")
    broken.check_status = "unreachable"
    broken.save()
    watcher = Watcher(refresh_seconds=60, watch_seconds=2)
    try:
        watcher.refresh()
        assert sorted(watcher.watches) == [
            (cluster.pk, "namespaces"),
            (cluster.pk, "serviceaccounts"),
        ]
    finally:
        watcher.stop()


def test_a_burst_of_new_namespaces_is_synced_in_one_run(
    kubeapi, cluster, policy, kubectl_api, eager, running
):
    running("namespaces")
    for i in range(6):
        kubectl_api.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=f"b-{i}")))
    for i in range(6):
        assert wait_for_secret(kubeapi, f"b-{i}")
    deadline = time.monotonic() + 10
    while SyncRun.objects.exclude(state="succeeded").exists():
        if time.monotonic() > deadline:
            pytest.fail("the watcher's syncs did not finish")
        time.sleep(0.05)
    covered = sorted(ns for run in SyncRun.objects.all() for ns in run.only_namespaces)
    assert covered == [f"b-{i}" for i in range(6)]
    assert SyncRun.objects.count() < 6
