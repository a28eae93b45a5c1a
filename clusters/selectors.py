"""Reads for cluster pages: lists with counts computed in the database."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, Count, Q, QuerySet, When
from django.utils.translation import gettext_lazy as _

from clusters.models import Cluster, Namespace, SecretStatus, SyncResult, SyncRun
from clusters.selection import parse_label_selector


def cluster_rows(*, query: str = "", status: str = "") -> QuerySet[Cluster]:
    """Clusters with namespace coverage counted in one query."""
    clusters = Cluster.objects.select_related("account").annotate(
        namespace_count=Count("namespaces", filter=Q(namespaces__gone=False), distinct=True),
        covered_count=Count(
            "secret_statuses__namespace",
            filter=Q(
                secret_statuses__status__in=[
                    SecretStatus.Status.IN_SYNC,
                    SecretStatus.Status.COVERED_BY_VENDOR,
                ],
                secret_statuses__namespace__gone=False,
            ),
            distinct=True,
        ),
    )
    if query:
        clusters = clusters.filter(
            Q(name__icontains=query)
            | Q(server__icontains=query)
            | Q(account__name__icontains=query)
            | Q(tke_cluster_id__icontains=query)
        )
    if status:
        clusters = clusters.filter(check_status=status)
    return clusters.order_by("name")


@dataclass
class PreviewRow:
    cluster: Cluster
    scanned: bool
    covered: list[tuple[str, str]]  # (namespace, what would happen), at most ``limit``
    excluded: int
    total: int = 0


ACTION_FOR_STATUS = {
    SecretStatus.Status.IN_SYNC: _("already in sync"),
    SecretStatus.Status.STALE: _("update (content differs)"),
    SecretStatus.Status.UNMANAGED: _("exists, not ours"),
    SecretStatus.Status.COVERED_BY_VENDOR: _("covered by vendor key"),
    SecretStatus.Status.ERROR: _("retry"),
}


def policy_preview(fields: dict, *, policy_id: int | None = None, limit: int = 200) -> list:
    """What a policy would do, from the last scan of each target cluster; writes nothing."""
    from clusters.selection import NamespaceSelection

    selection = NamespaceSelection(
        selection=fields["selection"],
        namespaces=frozenset(fields["namespaces"]),
        patterns=tuple(fields["patterns"]),
        requirements=tuple(parse_label_selector(fields["label_selector"])),
        exclusions=tuple(fields["exclusions"]),
    )
    if fields.get("cluster"):
        clusters = [fields["cluster"]]
    elif fields.get("account"):
        clusters = list(Cluster.objects.filter(account=fields["account"]).order_by("name"))
    else:
        clusters = []
    rows = []
    for cluster in clusters:
        namespaces = list(
            Namespace.objects.filter(cluster=cluster, gone=False).values_list("name", "labels")
        )
        statuses = {}
        if policy_id:
            statuses = dict(
                SecretStatus.objects.filter(cluster=cluster, policy_id=policy_id)
                .filter(secret_name=fields["secret_name"])
                .values_list("namespace__name", "status")
            )
        existing = dict(
            SecretStatus.objects.filter(
                cluster=cluster, secret_name=fields["secret_name"]
            ).values_list("namespace__name", "status")
        )
        covered, excluded = [], 0
        for name, labels in namespaces:
            if not selection.covers(name, labels or {}):
                excluded += 1
                continue
            status = statuses.get(name) or existing.get(name)
            action = ACTION_FOR_STATUS.get(status, _("create")) if status else _("create")
            covered.append((name, str(action)))
        rows.append(
            PreviewRow(
                cluster, cluster.last_scan_at is not None, covered[:limit], excluded, len(covered)
            )
        )
    return rows


def namespace_statuses(cluster: Cluster, *, query: str = "", status: str = "") -> QuerySet:
    rows = SecretStatus.objects.filter(cluster=cluster, namespace__gone=False).select_related(
        "namespace", "policy"
    )
    if query:
        rows = rows.filter(namespace__name__icontains=query)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by(
        Case(
            When(status=SecretStatus.Status.MISSING, then=0),
            When(status=SecretStatus.Status.ERROR, then=0),
            When(status=SecretStatus.Status.STALE, then=1),
            When(status=SecretStatus.Status.UNMANAGED, then=2),
            default=3,
        ),
        "namespace__name",
        "secret_name",
    )


def status_counts(**filters) -> dict[str, int]:
    return dict(
        SecretStatus.objects.filter(namespace__gone=False, **filters)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )


def run_results(run: SyncRun) -> QuerySet:
    """Failures first, then everything else in namespace order."""
    return run.results.select_related("cluster").order_by(
        Case(When(outcome=SyncResult.Outcome.FAILED, then=0), default=1),
        "cluster__name",
        "namespace",
    )


def cluster_policies(cluster: Cluster):
    from clusters.models import PullSecretPolicy

    return (
        PullSecretPolicy.objects.filter(Q(cluster=cluster) | Q(account_id=cluster.account_id))
        .select_related("credential")
        .order_by("name")
    )


def coverage_rows(filters: dict) -> QuerySet:
    """Clusters x namespaces x policy Secrets, filtered; a fixed number of queries per page."""
    from clusters.forms import COVERAGE_SORTS

    rows = (
        SecretStatus.objects.filter(namespace__gone=False)
        .select_related("cluster", "cluster__account", "namespace", "policy", "policy__credential")
        .only(
            "secret_name",
            "status",
            "checked_at",
            "message",
            "last_manager",
            "last_changed_at",
            "cluster__name",
            "cluster__account__name",
            "namespace__name",
            "policy__name",
            "policy__credential__name",
        )
    )
    if filters.get("cluster"):
        rows = rows.filter(cluster=filters["cluster"])
    if filters.get("account"):
        rows = rows.filter(cluster__account=filters["account"])
    if filters.get("credential"):
        rows = rows.filter(policy__credential=filters["credential"])
    if filters.get("q"):
        rows = rows.filter(namespace__name__icontains=filters["q"])
    counts_base = rows
    if filters.get("status"):
        rows = rows.filter(status=filters["status"])
    sort = filters.get("sort") or "cluster"
    fields = COVERAGE_SORTS[sort.lstrip("-")]
    order = [f"-{fields[0]}" if sort.startswith("-") else fields[0], *fields[1:]]
    return rows.order_by(*order), counts_base


def counts_by_status(rows: QuerySet) -> dict[str, int]:
    return dict(rows.order_by().values_list("status").annotate(n=Count("id")))


def workload_rows(filters: dict) -> QuerySet:
    from clusters.models import Workload

    rows = Workload.objects.select_related("cluster", "namespace")
    if filters.get("cluster"):
        rows = rows.filter(cluster=filters["cluster"])
    if filters.get("risk"):
        rows = rows.filter(risk=filters["risk"])
    if filters.get("kind"):
        rows = rows.filter(kind=filters["kind"])
    if filters.get("q"):
        rows = rows.filter(
            Q(name__icontains=filters["q"]) | Q(namespace__name__icontains=filters["q"])
        )
    return rows.order_by("cluster__name", "namespace__name", "kind", "name")
