"""Audit: the workload-risk rules, the coverage matrix, CSV exports and the overview."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clusters import services, sync
from clusters.models import Namespace, PullSecretPolicy, SecretStatus, Workload
from clusters.workloads import PodTemplate, assess, image_registry
from dashboard.audit import audit_record

PRIVATE = "team-docker.pkg.coding.net/proj/repo/app:1.0"
HOSTS = {"team-docker.pkg.coding.net"}


def judge(spec, *, secrets=None, sa_secrets=()):
    return assess(
        PodTemplate("Deployment", "team-a", "app", spec),
        secrets_in_namespace=secrets or {},
        service_account_secrets=list(sa_secrets),
        credential_hosts=HOSTS,
    )


@pytest.mark.parametrize(
    ("image", "host"),
    [
        ("nginx:1.14.2", "docker.io"),
        ("library/nginx", "docker.io"),
        ("team-docker.pkg.coding.net/p/r/app:1", "team-docker.pkg.coding.net"),
        ("localhost:5000/app", "localhost:5000"),
        ("ccr.ccs.tencentyun.com/ns/app@sha256:ab", "ccr.ccs.tencentyun.com"),
    ],
)
def test_it_finds_the_registry_of_an_image(image, host):
    assert image_registry(image) == host


def test_a_direct_pull_secret_for_the_registry_is_fine():
    spec = {"containers": [{"image": PRIVATE}], "imagePullSecrets": [{"name": "regcred"}]}
    assert judge(spec, secrets={"regcred": frozenset(HOSTS)}) is None


def test_a_pull_secret_through_the_service_account_is_fine():
    spec = {"containers": [{"image": PRIVATE}], "serviceAccountName": "builder"}
    assert judge(spec, secrets={"regcred": frozenset(HOSTS)}, sa_secrets=["regcred"]) is None


def test_an_image_from_another_registry_needs_nothing():
    assert judge({"containers": [{"image": "nginx:1.14.2"}]}) is None


def test_a_private_image_without_a_pull_secret_is_at_risk():
    risk = judge({"initContainers": [{"image": PRIVATE}], "containers": [{"image": "nginx"}]})
    assert (risk.risk, risk.registry, risk.service_account) == (
        "no_pull_secret",
        "team-docker.pkg.coding.net",
        "default",
    )
    assert "no pull secret for it is in the pod spec or on service account default" in risk.detail


def test_a_pull_secret_for_a_different_registry_does_not_count():
    spec = {"containers": [{"image": PRIVATE}], "imagePullSecrets": [{"name": "hub"}]}
    risk = judge(spec, secrets={"hub": frozenset({"docker.io"})})
    assert risk.risk == "no_pull_secret"


def test_naming_a_pull_secret_that_does_not_exist_is_at_risk():
    risk = judge({"containers": [{"image": "nginx"}], "imagePullSecrets": [{"name": "gone"}]})
    assert risk.risk == "missing_secret" and "gone" in risk.detail


def deployment(name, image, **pod):
    return {
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}], **pod},
            },
        },
    }


def test_a_scan_reports_workloads_at_risk_and_a_sync_clears_them(kubeapi, cluster, policy):
    private = "team-docker.pkg.coding.net/proj/app:1"
    kubeapi.create_namespace("team-a")
    kubeapi.put_object("deployments", deployment("web", private), namespace="team-a")
    kubeapi.put_object("deployments", deployment("public", "nginx:1.14.2"), namespace="team-a")
    kubeapi.put_object(
        "cronjobs",
        {
            "metadata": {"name": "nightly"},
            "spec": {
                "schedule": "0 1 * * *",
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "Never",
                                "containers": [{"name": "c", "image": private}],
                                "imagePullSecrets": [{"name": "nope"}],
                            }
                        }
                    }
                },
            },
        },
        namespace="team-a",
    )
    kubeapi.put_object(
        "pods",
        {"metadata": {"name": "bare"}, "spec": {"containers": [{"name": "c", "image": private}]}},
        namespace="team-a",
    )

    services.cluster_scan(cluster_id=cluster.pk)
    found = {(w.kind, w.name): w.risk for w in Workload.objects.all()}
    assert found == {
        ("Deployment", "web"): "no_pull_secret",
        ("CronJob", "nightly"): "no_pull_secret",
        ("Pod", "bare"): "no_pull_secret",
    }

    PullSecretPolicy.objects.filter(pk=policy.pk).update(service_accounts="default")
    run = services.sync_run_start(actor=None, clusters=[cluster], policy=policy)
    sync.sync_cluster(run_id=run.pk, cluster_id=cluster.pk)
    services.cluster_scan(cluster_id=cluster.pk)
    # The cronjob names a Secret that does not exist: still worth fixing.
    assert [(w.name, w.risk) for w in Workload.objects.all()] == [("nightly", "missing_secret")]


def fill(cluster, policy, count):
    now = timezone.now()
    namespaces = Namespace.objects.bulk_create(
        [Namespace(cluster=cluster, name=f"ns-{i:04d}") for i in range(count)]
    )
    SecretStatus.objects.bulk_create(
        [
            SecretStatus(
                cluster=cluster,
                namespace=ns,
                policy=policy,
                secret_name="coding-regcred",
                status="missing" if i % 3 else "in_sync",
                checked_at=now,
            )
            for i, ns in enumerate(namespaces)
        ]
    )


def test_the_coverage_page_costs_the_same_queries_however_many_rows(viewer_client, cluster, policy):
    fill(cluster, policy, 20)
    with CaptureQueriesContext(connection) as small:
        viewer_client.get(reverse("coverage"))
    fill_more = Namespace.objects.bulk_create(
        [Namespace(cluster=cluster, name=f"more-{i:04d}") for i in range(400)]
    )
    SecretStatus.objects.bulk_create(
        [
            SecretStatus(
                cluster=cluster,
                namespace=ns,
                policy=policy,
                secret_name="coding-regcred",
                status="stale",
                checked_at=timezone.now(),
            )
            for ns in fill_more
        ]
    )
    with CaptureQueriesContext(connection) as large:
        response = viewer_client.get(reverse("coverage"))
    assert len(small.captured_queries) == len(large.captured_queries)
    assert "Page 1 of 5 (420 rows)" in response.content.decode()


def test_the_coverage_page_counts_and_filters(viewer_client, cluster, policy):
    fill(cluster, policy, 9)
    html = viewer_client.get(reverse("coverage"), {"status": "in_sync", "q": "ns-000"}).content
    html = html.decode()
    assert "ns-0003" in html and "ns-0001" not in html
    assert '<div class="n">6</div><div class="l">Missing</div>' in html


def test_the_coverage_csv_follows_the_filters_and_streams(viewer_client, cluster, policy):
    fill(cluster, policy, 9)
    response = viewer_client.get(reverse("coverage-csv"), {"status": "in_sync"})
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["cluster", "account", "namespace", "secret"]
    assert "last_checked" in rows[0]
    assert [r[2] for r in rows[1:]] == ["ns-0000", "ns-0003", "ns-0006"]


def test_csv_cells_cannot_become_spreadsheet_formulas(viewer_client, operator):
    audit_record(actor=operator, verb="policy.create", target_name='=HYPERLINK("x")')
    response = viewer_client.get(reverse("audit-csv"))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "'=HYPERLINK" in text


def test_the_events_csv_honours_the_filters(viewer_client, operator):
    audit_record(actor=operator, verb="credential.create", target_name="keep")
    audit_record(actor=operator, verb="cluster.sync", target_name="drop")
    text = b"".join(
        viewer_client.get(reverse("audit-csv"), {"verb": "credential"}).streaming_content
    ).decode("utf-8-sig")
    assert "keep" in text and "drop" not in text


def test_the_workloads_page_and_csv(viewer_client, kubeapi, cluster, policy):
    kubeapi.create_namespace("team-a")
    kubeapi.put_object("deployments", deployment("web", PRIVATE), namespace="team-a")
    services.cluster_scan(cluster_id=cluster.pk)

    html = viewer_client.get(reverse("workloads")).content.decode()
    assert "Deployment/<strong>web</strong>" in html and "No pull secret" in html
    text = b"".join(
        viewer_client.get(reverse("workloads-csv"), {"kind": "Deployment"}).streaming_content
    ).decode("utf-8-sig")
    assert "web,no_pull_secret,team-docker.pkg.coding.net" in text
    empty = viewer_client.get(reverse("workloads"), {"kind": "Pod"}).content.decode()
    assert "Nothing matches" in empty


def test_the_overview_totals_the_fleet_and_lists_what_needs_attention(
    viewer_client, cluster, policy, kubeapi
):
    fill(cluster, policy, 6)
    cluster.check_status, cluster.check_message = "unreachable", "Could not reach it"
    cluster.save()
    html = viewer_client.get(reverse("home")).content.decode()
    assert '<div class="n">4</div><div class="l">missing</div>' in html
    assert "Needs attention" in html and "Could not reach it" in html
