"""Syncing one cluster for one run: scan, then write only what the scan says is needed.

Writes go out on a bounded thread pool sharing one client (and its connection pool); results
come back to the calling thread, which alone touches the database. Every write is in place
(create, or a patch of the existing object), never delete-and-recreate, so a pod pulling in
between always finds a usable Secret.
"""

from __future__ import annotations

import base64
import logging
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from clusters.connection import cluster_client
from clusters.kube import JSON_PATCH, MERGE_PATCH, KubeClient, KubeError
from clusters.models import Cluster, SecretStatus, SyncResult, SyncRun
from clusters.scan import (
    CHECKSUM_ANNOTATION,
    DOCKERCONFIGJSON,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    Desired,
    ObservedServiceAccount,
    Snapshot,
    evaluate,
    scan_cluster,
    target_service_accounts,
)
from dashboard.audit import audit_record

logger = logging.getLogger(__name__)

Outcome = SyncResult.Outcome
# Progress is written at most twice a second (the run page polls every second).
FLUSH_EVERY = 25
FLUSH_SECONDS = 0.5
SA_PATCH_ATTEMPTS = 3


@dataclass
class TargetResult:
    namespace: str
    secret_name: str
    policy_id: int
    outcome: str
    reason: str = ""
    service_accounts: str = ""
    checksum: str = ""
    sa_ok: bool = True
    adopted: bool = False


def secret_manifest(desired: Desired, namespace: str) -> dict:
    """Exactly `kubectl create secret docker-registry`, plus our label and checksum."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": desired.secret_name,
            "namespace": namespace,
            "labels": {MANAGED_BY_LABEL: MANAGED_BY},
            "annotations": {CHECKSUM_ANNOTATION: desired.checksum},
        },
        "type": DOCKERCONFIGJSON,
        "data": {".dockerconfigjson": base64.b64encode(desired.content).decode()},
    }


def _secret_path(namespace: str, name: str = "") -> str:
    base = f"/api/v1/namespaces/{namespace}/secrets"
    return f"{base}/{name}" if name else base


def _write_patch(desired: Desired) -> dict:
    manifest = secret_manifest(desired, "")
    return {
        "metadata": {
            "labels": manifest["metadata"]["labels"],
            "annotations": manifest["metadata"]["annotations"],
        },
        "data": manifest["data"],
    }


def _patch_secret(client: KubeClient, desired: Desired, namespace: str) -> None:
    client.request(
        "PATCH",
        _secret_path(namespace, desired.secret_name),
        query={"fieldManager": MANAGED_BY},
        body=_write_patch(desired),
        content_type=MERGE_PATCH,
    )


def _create_secret(client: KubeClient, desired: Desired, namespace: str) -> tuple[str, str]:
    try:
        client.request(
            "POST",
            _secret_path(namespace),
            query={"fieldManager": MANAGED_BY},
            body=secret_manifest(desired, namespace),
        )
        return Outcome.CREATED, ""
    except KubeError as exc:
        if exc.status != 409:
            raise
    # Someone created it between our scan and now: converge on what is there.
    current = client.get(_secret_path(namespace, desired.secret_name))
    if current is None:
        raise KubeError(
            _("The Secret appeared and vanished while we wrote it; retry."), permanent=False
        )
    if current.get("type") != DOCKERCONFIGJSON:
        return Outcome.FAILED, _(
            'A Secret named "%(name)s" of type %(type)s is already there; rename or delete it.'
        ) % {"name": desired.secret_name, "type": current.get("type")}
    labels = (current.get("metadata") or {}).get("labels") or {}
    if labels.get(MANAGED_BY_LABEL) != MANAGED_BY and not desired.adopt:
        return Outcome.SKIPPED, _("Created by someone else just now; adopt it to manage it.")
    data = (current.get("data") or {}).get(".dockerconfigjson", "")
    if data == base64.b64encode(desired.content).decode() and labels.get(MANAGED_BY_LABEL):
        return Outcome.UNCHANGED, ""
    _patch_secret(client, desired, namespace)
    return Outcome.UPDATED, _("Converged after a concurrent create.")


def _patch_service_account(
    client: KubeClient, sa: ObservedServiceAccount, secret_name: str
) -> bool:
    """Append the Secret to ``imagePullSecrets`` without dropping entries already there.

    ServiceAccount.imagePullSecrets has no patch merge key, so a strategic-merge patch would
    replace the list. A JSON patch guarded by a ``test`` of the resourceVersion appends only
    if nobody changed the object since we read it; otherwise re-read and try again.
    Returns False when the service account no longer exists.
    """
    path = f"/api/v1/namespaces/{sa.namespace}/serviceaccounts/{sa.name}"
    current, version = list(sa.pull_secrets), sa.resource_version
    for _attempt in range(SA_PATCH_ATTEMPTS):
        if secret_name in current:
            return True
        add = (
            {"op": "add", "path": "/imagePullSecrets/-", "value": {"name": secret_name}}
            if current
            else {"op": "add", "path": "/imagePullSecrets", "value": [{"name": secret_name}]}
        )
        ops = [{"op": "test", "path": "/metadata/resourceVersion", "value": version}, add]
        try:
            client.request(
                "PATCH", path, query={"fieldManager": MANAGED_BY}, body=ops, content_type=JSON_PATCH
            )
            return True
        except KubeError as exc:
            if exc.status not in (409, 422):
                raise
        fresh = client.get(path)
        if fresh is None:
            return False
        current = [ref.get("name", "") for ref in fresh.get("imagePullSecrets") or []]
        version = (fresh.get("metadata") or {}).get("resourceVersion", "")
    raise KubeError(
        _("Service account %(name)s kept changing under us; retry.") % {"name": sa.name},
        permanent=False,
    )


def apply_target(
    client: KubeClient, snapshot: Snapshot, desired: Desired, namespace: str
) -> TargetResult:
    """Bring one policy Secret in one namespace to the desired state."""
    result = TargetResult(namespace, desired.secret_name, desired.policy_id, Outcome.UNCHANGED)
    evaluation = evaluate(desired, snapshot, namespace)
    status = SecretStatus.Status
    try:
        if evaluation.status == status.MISSING:
            result.outcome, result.reason = _create_secret(client, desired, namespace)
        elif evaluation.status == status.STALE:
            _patch_secret(client, desired, namespace)
            result.outcome = Outcome.UPDATED
            observed = evaluation.observed
            if observed and observed.last_manager and observed.last_manager != MANAGED_BY:
                result.reason = _("Repaired a change made by %(who)s at %(when)s.") % {
                    "who": observed.last_manager,
                    "when": observed.last_changed,
                }
        elif evaluation.status == status.UNMANAGED:
            observed = evaluation.observed
            if desired.adopt:
                _patch_secret(client, desired, namespace)
                result.outcome, result.reason = Outcome.UPDATED, _("Adopted an existing Secret.")
                result.adopted = True
            else:
                result.outcome = Outcome.SKIPPED
                result.reason = _(
                    "A Secret of this name exists that the dashboard did not create (last "
                    "changed by %(who)s at %(when)s); adopt it to manage it."
                ) % {"who": observed.last_manager or "?", "when": observed.last_changed or "?"}
        elif evaluation.status == status.COVERED_BY_VENDOR:
            result.outcome = Outcome.SKIPPED
            result.reason = _("A vendor-managed key already holds credentials for this registry.")
        if result.outcome in (Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED):
            result.checksum = desired.checksum
            patched = []
            for sa in target_service_accounts(desired, snapshot, namespace):
                if desired.secret_name not in sa.pull_secrets and _patch_service_account(
                    client, sa, desired.secret_name
                ):
                    patched.append(sa.name)
            if patched:
                result.service_accounts = ", ".join(patched)
                if result.outcome == Outcome.UNCHANGED:
                    result.outcome = Outcome.UPDATED
    except KubeError as exc:
        if exc.status == 404:
            result.outcome, result.reason = Outcome.SKIPPED, _("The namespace no longer exists.")
        else:
            result.outcome, result.reason = Outcome.FAILED, exc.message
            result.sa_ok = False
    return result


# --- runs -------------------------------------------------------------------------------


def _claim(run_id: int) -> bool:
    now = timezone.now()
    claimed = SyncRun.objects.filter(
        pk=run_id, state__in=[SyncRun.State.QUEUED, SyncRun.State.RUNNING]
    ).update(
        state=SyncRun.State.RUNNING, started_at=Coalesce(F("started_at"), now), heartbeat_at=now
    )
    return claimed == 1


def _counter_field(outcome: str) -> str:
    return f"{outcome}_count"


def _flush(run_id: int, cluster: Cluster, buffer: list[TargetResult]) -> None:
    if not buffer:
        return
    SyncResult.objects.bulk_create(
        [
            SyncResult(
                run_id=run_id,
                cluster=cluster,
                namespace=r.namespace,
                secret_name=r.secret_name,
                outcome=r.outcome,
                reason=r.reason[:2000],
                service_accounts=r.service_accounts[:255],
            )
            for r in buffer
        ]
    )
    increments: dict[str, int] = {}
    for r in buffer:
        field = _counter_field(r.outcome)
        increments[field] = increments.get(field, 0) + 1
    SyncRun.objects.filter(pk=run_id).update(
        heartbeat_at=timezone.now(), **{k: F(k) + v for k, v in increments.items()}
    )
    buffer.clear()


def _record_statuses(cluster: Cluster, results: list[TargetResult]) -> None:
    """What we just wrote is in sync now, and what failed says why; no need to list again."""
    # Unchanged namespaces were in sync when the scan recorded them: nothing to write.
    touched = {
        (r.namespace, r.policy_id): r
        for r in results
        if r.outcome in (Outcome.CREATED, Outcome.UPDATED, Outcome.FAILED) and r.namespace
    }
    if not touched:
        return
    rows = SecretStatus.objects.filter(
        cluster=cluster, policy_id__in={key[1] for key in touched}
    ).select_related("namespace")
    now, changed = timezone.now(), []
    for row in rows:
        result = touched.get((row.namespace.name, row.policy_id))
        if result is None:
            continue
        if result.outcome == Outcome.FAILED:
            row.status, row.message = SecretStatus.Status.ERROR, result.reason[:2000]
        else:
            row.status, row.message = SecretStatus.Status.IN_SYNC, ""
            row.observed_checksum = result.checksum
            row.service_accounts_ok, row.service_accounts_missing = True, []
            row.last_manager, row.last_changed_at = "", None
        row.checked_at = now
        changed.append(row)
    fields = [
        "status",
        "message",
        "observed_checksum",
        "service_accounts_ok",
        "service_accounts_missing",
        "last_manager",
        "last_changed_at",
        "checked_at",
    ]
    SecretStatus.objects.bulk_update(changed, fields, batch_size=500)


def _audit(run: SyncRun, cluster: Cluster, results: list[TargetResult]) -> None:
    """One event per cluster with its counts, and one per adopted Secret (a takeover)."""
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
        if result.adopted:
            audit_record(
                actor=run.created_by or run.trigger,
                verb="secret.adopt",
                target_name=result.secret_name,
                cluster=cluster.name,
                namespace=result.namespace,
                detail=f"sync #{run.pk}",
            )
    audit_record(
        actor=run.created_by or run.trigger,
        verb="sync.cluster",
        target=run,
        target_name=f"sync #{run.pk}",
        cluster=cluster.name,
        outcome="failure" if counts.get(Outcome.FAILED) else "success",
        detail=", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())),
    )


def sync_cluster(*, run_id: int, cluster_id: int) -> None:
    """The whole of one cluster's part in a run. Safe to run twice (redelivery)."""
    if not _claim(run_id):
        return
    run = SyncRun.objects.get(pk=run_id)
    if cluster_id in run.finished_cluster_ids:
        return
    cluster = Cluster.objects.select_related("account").get(pk=cluster_id)
    # A redelivered task starts this cluster over; its earlier partial results go.
    SyncResult.objects.filter(run_id=run_id, cluster=cluster).delete()
    concurrency = max(1, settings.REGCRED_SYNC_CONCURRENCY)
    try:
        with cluster_client(cluster, pool_size=concurrency) as client:
            _outcome, snapshot, desired = scan_cluster(cluster, client)
            targets = [
                (want, name)
                for want in desired
                if run.policy_id is None or want.policy_id == run.policy_id
                for name, labels in sorted(snapshot.namespaces.items())
                if want.selection.covers(name, labels)
                and (not run.only_namespaces or name in run.only_namespaces)
            ]
            SyncRun.objects.filter(pk=run_id).update(total=F("total") + len(targets))
            results = _apply_all(run_id, cluster, client, snapshot, targets, concurrency)
        _record_statuses(cluster, results)
        _audit(run, cluster, results)
    except KubeError as exc:
        if not exc.permanent:
            raise  # the task retries transient failures of the scan itself
        _flush(run_id, cluster, [TargetResult("", "", 0, Outcome.FAILED, exc.message)])
        SyncRun.objects.filter(pk=run_id).update(total=F("total") + 1)
    finish_cluster(run_id=run_id, cluster_id=cluster_id)


def _apply_all(run_id, cluster, client, snapshot, targets, concurrency) -> list[TargetResult]:
    results: list[TargetResult] = []
    buffer: list[TargetResult] = []
    last_flush = time.monotonic()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="sync") as pool:
        futures = [
            pool.submit(apply_target, client, snapshot, want, name) for want, name in targets
        ]
        for future in as_completed(futures):
            result = future.result()
            results.append(result)
            buffer.append(result)
            if len(buffer) >= FLUSH_EVERY and time.monotonic() - last_flush > FLUSH_SECONDS:
                _flush(run_id, cluster, buffer)
                last_flush = time.monotonic()
    _flush(run_id, cluster, buffer)
    return results


def finish_cluster(*, run_id: int, cluster_id: int, error: str = "") -> SyncRun:
    """Count the cluster as done; the last cluster to finish decides the run's state."""
    with transaction.atomic():
        run = SyncRun.objects.select_for_update().get(pk=run_id)
        if cluster_id in run.finished_cluster_ids or run.is_finished:
            return run
        if error:
            SyncResult.objects.create(
                run=run,
                cluster_id=cluster_id,
                namespace="",
                secret_name="",
                outcome=Outcome.FAILED,
                reason=error,
            )
        counts = dict(
            SyncResult.objects.filter(run=run).values_list("outcome").annotate(n=Count("id"))
        )
        for outcome in Outcome.values:
            setattr(run, _counter_field(outcome), counts.get(outcome, 0))
        run.total = max(run.total, sum(counts.values()))
        run.finished_cluster_ids = [*run.finished_cluster_ids, cluster_id]
        run.clusters_done = len(run.finished_cluster_ids)
        run.heartbeat_at = timezone.now()
        if run.clusters_done >= run.clusters_total:
            run.state = _final_state(run)
            run.finished_at = timezone.now()
        run.save()
    return run


def _final_state(run: SyncRun) -> str:
    if not run.failed_count:
        return SyncRun.State.SUCCEEDED
    succeeded = run.created_count + run.updated_count + run.unchanged_count + run.skipped_count
    return SyncRun.State.PARTIAL if succeeded else SyncRun.State.FAILED


def reap_stale_runs(*, older_than: float | None = None) -> int:
    """Mark runs whose worker stopped reporting as failed; they must never stay running."""
    seconds = older_than if older_than is not None else settings.REGCRED_RUN_STALE_AFTER
    cutoff = timezone.now() - timezone.timedelta(seconds=seconds)
    stale = SyncRun.objects.filter(state__in=[SyncRun.State.QUEUED, SyncRun.State.RUNNING]).filter(
        heartbeat_at__lt=cutoff
    ) | SyncRun.objects.filter(
        state=SyncRun.State.QUEUED, heartbeat_at__isnull=True, created__lt=cutoff
    )
    reaped = 0
    for run in stale:
        message = (
            _("No worker picked this run up; is a Celery worker running?")
            if run.state == SyncRun.State.QUEUED
            else _("The worker running this sync stopped responding (killed or lost); retry it.")
        )
        updated = SyncRun.objects.filter(pk=run.pk, state=run.state).update(
            state=SyncRun.State.FAILED, error=message, finished_at=timezone.now()
        )
        reaped += updated
    return reaped
