"""Reads for the dashboard pages: the fleet overview and the audit log."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from dashboard.models import AuditEvent


def audit_events(filters: dict) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if filters.get("actor"):
        events = events.filter(actor_name__icontains=filters["actor"])
    if filters.get("verb"):
        events = events.filter(verb__icontains=filters["verb"])
    if filters.get("cluster"):
        events = events.filter(cluster__icontains=filters["cluster"])
    tz = timezone.get_current_timezone()
    if filters.get("since"):
        start = dt.datetime.combine(filters["since"], dt.time.min, tzinfo=tz)
        events = events.filter(created__gte=start)
    if filters.get("until"):
        end = dt.datetime.combine(filters["until"], dt.time.max, tzinfo=tz)
        events = events.filter(created__lte=end)
    return events


def fleet_overview() -> dict:
    """Totals across every cluster, in a fixed handful of queries."""
    from clusters.models import Cluster, SecretStatus, SyncRun, Workload

    clusters = Cluster.objects.aggregate(
        total=Count("id"), reachable=Count("id", filter=Q(check_status=Cluster.Check.OK))
    )
    by_status = dict(
        SecretStatus.objects.filter(namespace__gone=False)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {
        "clusters": clusters["total"],
        "reachable": clusters["reachable"],
        "unreachable": clusters["total"] - clusters["reachable"],
        "statuses": by_status,
        "in_sync": by_status.get(SecretStatus.Status.IN_SYNC, 0),
        "missing": by_status.get(SecretStatus.Status.MISSING, 0),
        "stale": by_status.get(SecretStatus.Status.STALE, 0),
        "unmanaged": by_status.get(SecretStatus.Status.UNMANAGED, 0),
        "errors": by_status.get(SecretStatus.Status.ERROR, 0),
        "workloads_at_risk": Workload.objects.count(),
        "attention": _attention(),
        "recent_runs": list(SyncRun.objects.select_related("policy", "created_by")[:5]),
        "recent_events": list(AuditEvent.objects.all()[:8]),
    }


def _attention() -> list[dict]:
    """What to look at first: broken clusters, then failing namespaces, then failed runs."""
    from clusters.models import Cluster, SyncRun

    items = [
        {"kind": "cluster", "object": c}
        for c in Cluster.objects.exclude(check_status__in=["ok", "pending", "checking"]).order_by(
            "name"
        )[:5]
    ]
    items += [
        {"kind": "scan", "object": c}
        for c in Cluster.objects.exclude(last_scan_error="").order_by("name")[:5]
    ]
    items += [
        {"kind": "run", "object": r}
        for r in SyncRun.objects.filter(state__in=["failed", "partial"]).select_related("policy")[
            :5
        ]
    ]
    return items
