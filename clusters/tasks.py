"""Celery tasks: each takes ids, loads rows, and calls one service."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from django.utils.translation import gettext as _

from clusters import checks, services, sync
from clusters.kube import KubeError
from clusters.models import Cluster

logger = logging.getLogger(__name__)
MAX_RETRIES = 5


def _backoff(retries: int) -> float:
    return min(60.0, 2.0**retries) * (0.5 + random.random())  # noqa: S311


@shared_task(acks_late=True)
def check_cluster(cluster_id: int) -> None:
    checks.cluster_check(cluster_id=cluster_id)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def scan_cluster_task(self, cluster_id: int) -> None:
    try:
        services.cluster_scan(cluster_id=cluster_id)
    except KubeError as exc:
        if exc.permanent:
            logger.warning("scan of cluster %s failed: %s", cluster_id, exc.message)
            return
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task
def scan_all_clusters() -> int:
    """Beat's safety net: queue a scan of every cluster we could reach at some point."""
    ids = list(
        Cluster.objects.exclude(check_status=Cluster.Check.PENDING).values_list("pk", flat=True)
    )
    for cluster_id in ids:
        scan_cluster_task.delay(cluster_id)
    return len(ids)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def sync_cluster_task(self, run_id: int, cluster_id: int) -> None:
    try:
        sync.sync_cluster(run_id=run_id, cluster_id=cluster_id)
    except KubeError as exc:
        if self.request.retries < MAX_RETRIES:
            raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc
        sync.finish_cluster(run_id=run_id, cluster_id=cluster_id, error=exc.message)
    except Exception as exc:
        # Every outcome lands on the run: an unexpected error fails this cluster, loudly.
        logger.exception("sync of cluster %s in run %s crashed", cluster_id, run_id)
        sync.finish_cluster(
            run_id=run_id,
            cluster_id=cluster_id,
            error=_("Internal error while syncing: %(kind)s") % {"kind": type(exc).__name__},
        )


@shared_task
def reap_stale_runs() -> int:
    return sync.reap_stale_runs()
