"""The command-line paths: same forms and services as the pages."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from clusters.models import PullSecretPolicy, SyncRun
from tests.kubeapi.server import Fault


def sync_command(*args, **kwargs):
    from io import StringIO

    out = StringIO()
    call_command("sync_pull_secrets", *args, stdout=out, **kwargs)
    return out.getvalue()


BASE = ["--cluster", "fake-cluster", "--credential", "team", "--secret-name", "regcred"]


def test_inline_sync_creates_the_policy_and_reports_counts(kubeapi, cluster, credential):
    kubeapi.create_namespace("team-a")
    output = sync_command(*BASE, "--all-namespaces", "--inline")

    policy = PullSecretPolicy.objects.get(secret_name="regcred")
    assert (policy.cluster, policy.selection) == (cluster, "all")
    assert "succeeded: 2 created, 0 updated, 0 unchanged, 0 skipped, 0 failed." in output
    assert kubeapi.get_object("secrets", "team-a", "regcred") is not None


def test_a_second_inline_run_updates_the_same_policy(kubeapi, cluster, credential):
    kubeapi.create_namespace("team-a")
    sync_command(*BASE, "--all-namespaces", "--inline")
    output = sync_command(
        *BASE, "--namespace", "team-a", "--patch-default-service-account", "--inline"
    )

    policy = PullSecretPolicy.objects.get()
    assert (policy.selection, policy.namespaces, policy.service_accounts) == (
        "list",
        ["team-a"],
        "default",
    )
    assert "1 updated" in output  # the service account got the reference
    refs = kubeapi.get_object("serviceaccounts", "team-a", "default")["imagePullSecrets"]
    assert refs == [{"name": "regcred"}]


def test_a_selector_picks_namespaces_by_label(kubeapi, cluster, credential):
    kubeapi.create_namespace("pay", labels={"team": "payments"})
    kubeapi.create_namespace("web", labels={"team": "web"})
    sync_command(*BASE, "--selector", "team=payments", "--inline")
    assert kubeapi.get_object("secrets", "pay", "regcred") is not None
    assert kubeapi.get_object("secrets", "web", "regcred") is None


def test_a_failed_namespace_makes_the_command_exit_non_zero(kubeapi, cluster, credential):
    kubeapi.faults.add(
        Fault(
            method="POST",
            path="/namespaces/default/secrets",
            status=403,
            message="secrets is forbidden",
            times=None,
        )
    )
    with pytest.raises(CommandError, match="ended failed"):
        sync_command(*BASE, "--all-namespaces", "--inline")


def test_without_a_flag_the_run_is_queued_and_its_url_printed(
    kubeapi, cluster, credential, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        output = sync_command(*BASE, "--all-namespaces")
    run = SyncRun.objects.get()
    assert f"/clusters/runs/{run.pk}/" in output
    assert run.state == "queued" and run.trigger == "cli" and len(callbacks) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--cluster", "nope", "--credential", "team", "--secret-name", "x", "--all-namespaces"],
            'No cluster named "nope".',
        ),
        (
            [
                "--cluster",
                "fake-cluster",
                "--credential",
                "nope",
                "--secret-name",
                "x",
                "--all-namespaces",
            ],
            'No registry credential named "nope".',
        ),
        (
            [
                "--cluster",
                "fake-cluster",
                "--credential",
                "team",
                "--secret-name",
                "Bad_Name",
                "--all-namespaces",
            ],
            "Kubernetes Secret names use lowercase letters",
        ),
        (
            [
                "--cluster",
                "fake-cluster",
                "--credential",
                "team",
                "--secret-name",
                "x",
                "--selector",
                "team in ()",
            ],
            "list at least one valid value",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(cluster, credential, args, message):
    with pytest.raises(CommandError, match=message):
        sync_command(*args, "--inline")
    assert not SyncRun.objects.exists()


def test_scan_inline_prints_each_cluster(kubeapi, cluster, policy, capsys):
    from io import StringIO

    out = StringIO()
    call_command("scan_clusters", "--inline", stdout=out)
    assert "fake-cluster: 4 namespaces; 1 missing" in out.getvalue()


def test_scan_of_an_unknown_cluster_is_refused(db):
    with pytest.raises(CommandError, match='No cluster named "ghost"'):
        call_command("scan_clusters", "--cluster", "ghost")


def test_scan_inline_exits_non_zero_when_a_cluster_fails(kubeapi, cluster, policy):
    kubeapi.faults.add(
        Fault(path="/api/v1/namespaces", status=403, times=None, message="namespaces is forbidden")
    )
    with pytest.raises(CommandError, match="1 cluster scan"):
        call_command("scan_clusters", "--inline")
    cluster.refresh_from_db()
    assert "forbidden" in cluster.last_scan_error
