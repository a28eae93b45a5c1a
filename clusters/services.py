"""Writes for clusters: connection checks, policies, scans and syncs."""

from __future__ import annotations

import logging

from celery import group
from django.db import transaction
from django.utils import timezone

from clusters.models import Cluster, Namespace, PullSecretPolicy, SyncResult, SyncRun
from clusters.scan import ScanOutcome, policies_for, scan_cluster
from clusters.selection import NamespaceSelection
from dashboard.audit import audit_record

logger = logging.getLogger(__name__)


@transaction.atomic
def policy_create(
    *, actor, name: str, credential, secret_name: str, cluster=None, account=None, **options
) -> PullSecretPolicy:
    policy = PullSecretPolicy.objects.create(
        name=name,
        credential=credential,
        secret_name=secret_name,
        cluster=cluster,
        account=account,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **options,
    )
    audit_record(
        actor=actor,
        verb="policy.create",
        target=policy,
        cluster=cluster.name if cluster else "",
        detail=f"secret={secret_name} credential={credential.name}",
    )
    return policy


@transaction.atomic
def policy_update(*, actor, policy: PullSecretPolicy, **fields) -> PullSecretPolicy:
    changed = [name for name, value in fields.items() if getattr(policy, name) != value]
    for name, value in fields.items():
        setattr(policy, name, value)
    policy.save()
    audit_record(
        actor=actor,
        verb="policy.update",
        target=policy,
        cluster=policy.cluster.name if policy.cluster else "",
        detail="changed: " + (", ".join(changed) or "nothing"),
    )
    return policy


@transaction.atomic
def policy_delete(*, actor, policy: PullSecretPolicy) -> None:
    audit_record(
        actor=actor,
        verb="policy.delete",
        target=policy,
        target_name=policy.name,
        cluster=policy.cluster.name if policy.cluster else "",
    )
    policy.delete()


def policy_clusters(policy: PullSecretPolicy) -> list[Cluster]:
    if policy.cluster_id:
        return [policy.cluster]
    return list(Cluster.objects.filter(account_id=policy.account_id).order_by("name"))


@transaction.atomic
def sync_run_start(
    *,
    actor,
    clusters: list[Cluster],
    policy: PullSecretPolicy | None = None,
    trigger: str = SyncRun.Trigger.UI,
    only_namespaces: list[str] | None = None,
    dispatch: bool = True,
) -> SyncRun:
    """Record a run and fan out one task per cluster once the row is committed.

    ``dispatch=False`` leaves the tasks to the caller (``sync_pull_secrets --inline``).
    """
    from clusters.tasks import sync_cluster_task

    run = SyncRun.objects.create(
        policy=policy,
        trigger=trigger,
        only_namespaces=sorted(set(only_namespaces or [])),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        clusters_total=len(clusters),
    )
    run.clusters.set(clusters)
    names = ", ".join(c.name for c in clusters)
    audit_record(
        actor=actor or trigger,
        verb="sync.start",
        target=run,
        target_name=policy.name if policy else f"sync #{run.pk}",
        cluster=names[:255],
        outcome="queued",
        detail=f"trigger={trigger} namespaces={','.join(run.only_namespaces)[:500]}",
    )
    if not clusters:
        SyncRun.objects.filter(pk=run.pk).update(
            state=SyncRun.State.SUCCEEDED, finished_at=timezone.now()
        )
        run.refresh_from_db()
        return run
    if dispatch:
        signatures = group(sync_cluster_task.si(run.pk, c.pk) for c in clusters)
        transaction.on_commit(signatures.apply_async)
    return run


def sync_run_retry_failed(*, actor, run: SyncRun) -> SyncRun:
    failed = run.results.filter(outcome=SyncResult.Outcome.FAILED)
    clusters = list(Cluster.objects.filter(pk__in=failed.values("cluster_id")))
    namespaces = sorted({ns for ns in failed.values_list("namespace", flat=True) if ns})
    whole_cluster = failed.filter(namespace="").exists()
    return sync_run_start(
        actor=actor,
        clusters=clusters,
        policy=run.policy,
        trigger=SyncRun.Trigger.RETRY,
        only_namespaces=[] if whole_cluster else namespaces,
    )


def cluster_scan(*, cluster_id: int) -> ScanOutcome | None:
    """Scan one cluster; new namespaces under cover_new_namespaces get a sync at once."""
    cluster = Cluster.objects.select_related("account").filter(pk=cluster_id).first()
    if cluster is None:
        return None
    outcome, _snapshot, _desired = scan_cluster(cluster)
    if outcome.new_namespaces and cluster.namespaces.count() > len(outcome.new_namespaces):
        cover_new_namespaces(
            cluster=cluster, namespaces=outcome.new_namespaces, trigger=SyncRun.Trigger.SCAN
        )
    return outcome


def cover_new_namespaces(*, cluster: Cluster, namespaces: list[str], trigger: str) -> list:
    """Queue a sync of ``namespaces`` for each policy that covers new namespaces."""
    labels = dict(cluster.namespaces.filter(name__in=namespaces).values_list("name", "labels"))
    return _sync_where_covered(
        cluster=cluster,
        namespaces={ns: labels.get(ns) or {} for ns in namespaces},
        trigger=trigger,
    )


def cluster_scan_queue(*, actor, cluster: Cluster) -> None:
    from clusters.tasks import scan_cluster_task

    audit_record(
        actor=actor, verb="cluster.scan", target=cluster, cluster=cluster.name, outcome="queued"
    )
    scan_cluster_task.delay_on_commit(cluster.pk)


def namespaces_appeared(
    *, cluster: Cluster, namespaces: dict[str, dict[str, str]], trigger: str = SyncRun.Trigger.WATCH
) -> list[SyncRun]:
    """New namespaces (name -> labels): record them, and sync them at once where wanted.

    One run per policy covers every namespace of the batch it selects, so a burst of new
    namespaces costs one scan, not one per namespace.
    """
    now = timezone.now()
    for name, labels in namespaces.items():
        row, created = Namespace.objects.get_or_create(
            cluster=cluster, name=name, defaults={"labels": labels, "last_seen": now}
        )
        if not created:
            Namespace.objects.filter(pk=row.pk).update(labels=labels, gone=False, last_seen=now)
    return _sync_where_covered(cluster=cluster, namespaces=namespaces, trigger=trigger)


def service_account_appeared(*, cluster: Cluster, namespace: str, name: str) -> list[SyncRun]:
    """A new service account that a policy should patch gets a sync of its namespace."""
    labels = (
        Namespace.objects.filter(cluster=cluster, name=namespace)
        .values_list("labels", flat=True)
        .first()
        or {}
    )
    return _sync_where_covered(
        cluster=cluster,
        namespaces={namespace: labels},
        trigger=SyncRun.Trigger.WATCH,
        service_account=name,
    )


def _patches(policy: PullSecretPolicy, service_account: str) -> bool:
    kind = policy.service_accounts
    return (
        kind == PullSecretPolicy.ServiceAccounts.ALL
        or (kind == PullSecretPolicy.ServiceAccounts.DEFAULT and service_account == "default")
        or (
            kind == PullSecretPolicy.ServiceAccounts.NAMED
            and service_account in policy.service_account_names
        )
    )


def _sync_where_covered(
    *, cluster: Cluster, namespaces: dict[str, dict], trigger: str, service_account: str = ""
) -> list[SyncRun]:
    runs = []
    for policy in policies_for(cluster):
        if not policy.cover_new_namespaces:
            continue
        if service_account and not _patches(policy, service_account):
            continue
        selection = NamespaceSelection.of(policy)
        wanted = sorted(ns for ns, labels in namespaces.items() if selection.covers(ns, labels))
        if wanted:
            runs.append(
                sync_run_start(
                    actor=None,
                    clusters=[cluster],
                    policy=policy,
                    trigger=trigger,
                    only_namespaces=wanted,
                )
            )
    return runs
