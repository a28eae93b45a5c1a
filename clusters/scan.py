"""Scanning a cluster: a constant number of paginated LIST calls, statuses computed in bulk.

Nine lists, whatever the number of namespaces: namespaces, dockerconfigjson Secrets and
legacy dockercfg Secrets in all namespaces, service accounts, and the five workload kinds
(for the workload-risk report). Nothing is read per namespace. Observed Secret content is
reduced to a checksum and registry host names at once and never stored.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.dockerconfig import canonical_registry_host, content_checksum, dockerconfigjson
from accounts.dockerconfig import registry_hosts as dockerconfig_hosts
from clusters.connection import cluster_client
from clusters.kube import KubeClient, KubeError
from clusters.models import Cluster, Namespace, PullSecretPolicy, SecretStatus, Workload
from clusters.selection import NamespaceSelection
from clusters.workloads import WORKLOAD_LISTS, assess_all

logger = logging.getLogger(__name__)

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "regcred-dashboard"
CHECKSUM_ANNOTATION = "regcred.dev/content-sha256"
DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
DOCKERCFG = "kubernetes.io/dockercfg"
# Keys that cloud vendors keep in every namespace themselves (TKE, the TCR add-on).
VENDOR_SECRET_PATTERNS = ("qcloudregistrykey", "tencenthubkey", "tcr.ips*")


@dataclass
class ObservedSecret:
    namespace: str
    name: str
    type: str
    managed: bool
    checksum: str
    hosts: frozenset[str]
    resource_version: str
    last_manager: str
    last_changed: str


@dataclass
class ObservedServiceAccount:
    namespace: str
    name: str
    pull_secrets: list[str]
    resource_version: str


@dataclass
class Snapshot:
    """What one scan saw in one cluster."""

    namespaces: dict[str, dict[str, str]]  # name -> labels
    secrets: dict[tuple[str, str], ObservedSecret]
    service_accounts: dict[str, list[ObservedServiceAccount]]
    namespaces_resource_version: str
    vendor_hosts: dict[str, set[str]] = field(default_factory=dict)
    # Every pull-type Secret: namespace -> name -> registry hosts it can log in to.
    pull_secrets: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    workloads: dict[str, list[dict]] = field(default_factory=dict)  # kind -> items
    unreadable_workloads: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Desired:
    """What one policy wants, computed once per scan (the content never leaves memory)."""

    policy_id: int
    secret_name: str
    content: bytes
    checksum: str
    host: str
    selection: NamespaceSelection
    service_accounts: str
    service_account_names: tuple[str, ...]
    adopt: bool


@dataclass
class ScanOutcome:
    cluster_id: int
    namespaces: int
    new_namespaces: list[str]
    gone_namespaces: list[str]
    statuses: dict[str, int]


def _decode_config(secret: dict) -> bytes:
    key = ".dockerconfigjson" if secret.get("type") == DOCKERCONFIGJSON else ".dockercfg"
    try:
        return base64.b64decode((secret.get("data") or {}).get(key, ""), validate=True)
    except (binascii.Error, ValueError):
        return b""


def _last_change(meta: dict) -> tuple[str, str]:
    """The field manager and time of the most recent write, from managedFields."""
    entries = [e for e in meta.get("managedFields") or [] if e.get("time")]
    if not entries:
        return "", meta.get("creationTimestamp", "")
    # Times have second precision and entry order is not a write order, so on a tie someone
    # else's entry wins over ours: a person reading "edited by" wants the other writer.
    _index, latest = max(
        enumerate(entries),
        key=lambda pair: (pair[1]["time"], pair[1].get("manager") != MANAGED_BY, pair[0]),
    )
    return latest.get("manager", ""), latest["time"]


def _observe_secret(item: dict) -> ObservedSecret:
    meta = item.get("metadata") or {}
    raw = _decode_config(item)
    try:
        hosts = frozenset(canonical_registry_host(h) for h in dockerconfig_hosts(raw))
    except (ValueError, TypeError):
        hosts = frozenset()
    manager, changed = _last_change(meta)
    return ObservedSecret(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        type=item.get("type", ""),
        managed=(meta.get("labels") or {}).get(MANAGED_BY_LABEL) == MANAGED_BY,
        checksum=content_checksum(raw) if raw else "",
        hosts=hosts,
        resource_version=meta.get("resourceVersion", ""),
        last_manager=manager,
        last_changed=changed,
    )


def take_snapshot(client: KubeClient) -> Snapshot:
    """The four LIST calls of a scan."""
    namespace_items, ns_rv = client.list_all("/api/v1/namespaces")
    secret_items, _rv = client.list_all(
        "/api/v1/secrets", field_selector=f"type={DOCKERCONFIGJSON}"
    )
    legacy_items, _rv = client.list_all("/api/v1/secrets", field_selector=f"type={DOCKERCFG}")
    sa_items, _rv = client.list_all("/api/v1/serviceaccounts")

    namespaces = {
        (item["metadata"]["name"]): dict(item["metadata"].get("labels") or {})
        for item in namespace_items
        if (item.get("status") or {}).get("phase") != "Terminating"
    }
    secrets: dict[tuple[str, str], ObservedSecret] = {}
    vendor_hosts: dict[str, set[str]] = defaultdict(set)
    for item in secret_items + legacy_items:
        observed = _observe_secret(item)
        if observed.type == DOCKERCONFIGJSON:
            secrets[(observed.namespace, observed.name)] = observed
        if any(fnmatchcase(observed.name, p) for p in VENDOR_SECRET_PATTERNS):
            vendor_hosts[observed.namespace] |= observed.hosts
    pull_secrets: dict[str, dict[str, frozenset[str]]] = defaultdict(dict)
    for item in secret_items + legacy_items:
        observed = _observe_secret(item)
        pull_secrets[observed.namespace][observed.name] = observed.hosts
    workloads, unreadable = _list_workloads(client)
    service_accounts: dict[str, list[ObservedServiceAccount]] = defaultdict(list)
    for item in sa_items:
        meta = item.get("metadata") or {}
        service_accounts[meta.get("namespace", "")].append(
            ObservedServiceAccount(
                namespace=meta.get("namespace", ""),
                name=meta.get("name", ""),
                pull_secrets=[ref.get("name", "") for ref in item.get("imagePullSecrets") or []],
                resource_version=meta.get("resourceVersion", ""),
            )
        )
    return Snapshot(
        namespaces,
        secrets,
        dict(service_accounts),
        ns_rv,
        dict(vendor_hosts),
        dict(pull_secrets),
        workloads,
        unreadable,
    )


def _list_workloads(client: KubeClient) -> tuple[dict[str, list[dict]], list[str]]:
    """The five workload lists; a kind we may not list is reported, not fatal."""
    workloads: dict[str, list[dict]] = {}
    unreadable: list[str] = []
    for path, kind, _spec_path in WORKLOAD_LISTS:
        try:
            workloads[kind], _rv = client.list_all(path)
        except KubeError as exc:
            if exc.status not in (403, 404):
                raise
            unreadable.append(kind)
    return workloads, unreadable


def policies_for(cluster: Cluster) -> list[PullSecretPolicy]:
    return list(
        PullSecretPolicy.objects.filter(enabled=True)
        .filter(Q(cluster=cluster) | Q(account_id=cluster.account_id))
        .select_related("credential")
        .order_by("pk")
    )


def desired_for(policy: PullSecretPolicy) -> Desired:
    credential = policy.credential
    content = dockerconfigjson(
        server=credential.server,
        username=credential.username,
        password=credential.password,
        email=credential.email,
    )
    return Desired(
        policy_id=policy.pk,
        secret_name=policy.secret_name,
        content=content,
        checksum=content_checksum(content),
        host=canonical_registry_host(credential.server),
        selection=NamespaceSelection.of(policy),
        service_accounts=policy.service_accounts,
        service_account_names=tuple(policy.service_account_names or []),
        adopt=policy.adopt_unmanaged,
    )


def target_service_accounts(desired: Desired, snapshot: Snapshot, namespace: str) -> list:
    """The service accounts of ``namespace`` that this policy wants to reference the Secret."""
    accounts = snapshot.service_accounts.get(namespace, [])
    if desired.service_accounts == PullSecretPolicy.ServiceAccounts.DEFAULT:
        return [sa for sa in accounts if sa.name == "default"]
    if desired.service_accounts == PullSecretPolicy.ServiceAccounts.NAMED:
        return [sa for sa in accounts if sa.name in desired.service_account_names]
    if desired.service_accounts == PullSecretPolicy.ServiceAccounts.ALL:
        return list(accounts)
    return []


@dataclass
class Evaluation:
    status: str
    observed: ObservedSecret | None
    sa_missing: list[str]
    message: str = ""


def evaluate(desired: Desired, snapshot: Snapshot, namespace: str) -> Evaluation:
    """The status of one policy Secret in one namespace."""
    observed = snapshot.secrets.get((namespace, desired.secret_name))
    sa_missing = [
        sa.name
        for sa in target_service_accounts(desired, snapshot, namespace)
        if desired.secret_name not in sa.pull_secrets
    ]
    status = SecretStatus.Status
    if observed is None:
        if desired.host in snapshot.vendor_hosts.get(namespace, set()):
            return Evaluation(status.COVERED_BY_VENDOR, None, sa_missing)
        return Evaluation(status.MISSING, None, sa_missing)
    if not observed.managed:
        return Evaluation(status.UNMANAGED, observed, sa_missing)
    if observed.checksum != desired.checksum:
        return Evaluation(status.STALE, observed, sa_missing)
    return Evaluation(status.IN_SYNC, observed, sa_missing)


def _parse_time(value: str):
    return parse_datetime(value.replace("Z", "+00:00")) if value else None


@transaction.atomic
def record_snapshot(cluster: Cluster, snapshot: Snapshot, desired: list[Desired]) -> ScanOutcome:
    """Write namespaces and statuses in bulk: a handful of queries however many namespaces."""
    now = timezone.now()
    known = {ns.name: ns for ns in Namespace.objects.filter(cluster=cluster)}
    new_names = sorted(set(snapshot.namespaces) - set(known))
    Namespace.objects.bulk_create(
        [
            Namespace(cluster=cluster, name=name, labels=snapshot.namespaces[name], last_seen=now)
            for name in new_names
        ],
        batch_size=500,
    )
    changed, gone = [], []
    for name, row in known.items():
        if name in snapshot.namespaces:
            if row.gone or row.labels != snapshot.namespaces[name]:
                row.labels, row.gone = snapshot.namespaces[name], False
                changed.append(row)
        elif not row.gone:
            row.gone = True
            changed.append(row)
            gone.append(name)
    # Only rows that changed are rewritten; "seen now" is one UPDATE for all of them.
    Namespace.objects.bulk_update(changed, ["labels", "gone"], batch_size=500)
    Namespace.objects.filter(cluster=cluster, gone=False).update(last_seen=now)
    by_name = {ns.name: ns for ns in Namespace.objects.filter(cluster=cluster, gone=False)}

    policy_ids = [want.policy_id for want in desired]
    existing = {
        (row.namespace_id, row.policy_id): row
        for row in SecretStatus.objects.filter(cluster=cluster, policy_id__in=policy_ids)
    }
    to_create, to_update, keep = [], [], set()
    counts: dict[str, int] = defaultdict(int)
    for want in desired:
        for name, labels in snapshot.namespaces.items():
            if not want.selection.covers(name, labels):
                continue
            evaluation = evaluate(want, snapshot, name)
            counts[evaluation.status] += 1
            observed = evaluation.observed
            # Who last touched it matters only where it differs from what we want (and
            # keeping it off in-sync rows keeps rescans from rewriting every row).
            blame = (
                observed
                if evaluation.status in (SecretStatus.Status.STALE, SecretStatus.Status.UNMANAGED)
                else None
            )
            values = {
                "secret_name": want.secret_name,
                "status": evaluation.status,
                "observed_checksum": observed.checksum if observed else "",
                "last_manager": blame.last_manager if blame else "",
                "last_changed_at": _parse_time(blame.last_changed) if blame else None,
                "service_accounts_ok": not evaluation.sa_missing,
                "service_accounts_missing": evaluation.sa_missing,
                "message": evaluation.message,
                "checked_at": now,
            }
            namespace = by_name[name]
            key = (namespace.pk, want.policy_id)
            keep.add(key)
            row = existing.get(key)
            if row is None:
                to_create.append(
                    SecretStatus(
                        cluster=cluster, namespace=namespace, policy_id=want.policy_id, **values
                    )
                )
            elif any(
                getattr(row, attr) != value
                for attr, value in values.items()
                if attr != "checked_at"
            ):
                for attr, value in values.items():
                    setattr(row, attr, value)
                to_update.append(row)
    SecretStatus.objects.bulk_create(to_create, batch_size=500)
    SecretStatus.objects.bulk_update(to_update, list(values_fields()), batch_size=500)
    SecretStatus.objects.filter(cluster=cluster, policy_id__in=policy_ids).update(checked_at=now)
    # Namespaces a policy no longer covers (edited, or the namespace is gone) drop out.
    stale_ids = [row.pk for key, row in existing.items() if key not in keep]
    if stale_ids:
        SecretStatus.objects.filter(pk__in=stale_ids).delete()
    _record_workloads(cluster, snapshot, by_name, now)
    Cluster.objects.filter(pk=cluster.pk).update(
        last_scan_at=now,
        last_scan_error="",
        namespaces_resource_version=snapshot.namespaces_resource_version,
    )
    return ScanOutcome(cluster.pk, len(snapshot.namespaces), new_names, gone, dict(counts))


def _record_workloads(cluster: Cluster, snapshot: Snapshot, by_name: dict, now) -> None:
    """Replace the cluster's at-risk workloads with what this scan found."""
    from accounts.models import RegistryCredential

    hosts = {
        canonical_registry_host(server)
        for server in RegistryCredential.objects.values_list("server", flat=True)
    }
    references = {
        (sa.namespace, sa.name): sa.pull_secrets
        for accounts in snapshot.service_accounts.values()
        for sa in accounts
    }
    risks = assess_all(
        snapshot.workloads,
        pull_secrets=snapshot.pull_secrets,
        service_accounts=references,
        credential_hosts=hosts,
    )
    Workload.objects.filter(cluster=cluster).delete()
    Workload.objects.bulk_create(
        [
            Workload(
                cluster=cluster,
                namespace=by_name[r.namespace],
                kind=r.kind,
                name=r.name,
                service_account=r.service_account,
                images=r.images,
                pull_secrets=r.pull_secrets,
                risk=r.risk,
                registry=r.registry,
                detail=r.detail,
                checked_at=now,
            )
            for r in risks
            if r.namespace in by_name
        ],
        batch_size=500,
    )


def values_fields() -> tuple[str, ...]:
    return (
        "secret_name",
        "status",
        "observed_checksum",
        "last_manager",
        "last_changed_at",
        "service_accounts_ok",
        "service_accounts_missing",
        "message",
        "checked_at",
    )


def scan_cluster(
    cluster: Cluster, client: KubeClient | None = None
) -> tuple[ScanOutcome, Snapshot, list[Desired]]:
    """List, evaluate, record. Raises KubeError (after recording it) when the cluster fails."""
    own_client = client is None
    client = client or cluster_client(cluster)
    try:
        snapshot = take_snapshot(client)
    except KubeError as exc:
        Cluster.objects.filter(pk=cluster.pk).update(
            last_scan_error=exc.message, last_scan_at=timezone.now()
        )
        raise
    finally:
        if own_client:
            client.close()
    desired = [desired_for(policy) for policy in policies_for(cluster)]
    outcome = record_snapshot(cluster, snapshot, desired)
    logger.info(
        "scanned cluster=%s namespaces=%d statuses=%s",
        cluster.name,
        outcome.namespaces,
        json.dumps(outcome.statuses, sort_keys=True),
    )
    return outcome, snapshot, desired
