"""Reacting in seconds: watch namespaces and service accounts, sync what appears.

A pod admitted before its ServiceAccount lists the pull Secret never gets it, so waiting for
the periodic scan is too slow. One thread per cluster and resource holds a watch, resumes
from the last resourceVersion, relists on 410 Gone, and reconnects with backoff.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import close_old_connections, connection

from clusters import services
from clusters.connection import cluster_client
from clusters.kube import KubeError
from clusters.models import Cluster

logger = logging.getLogger(__name__)

WATCH_SECONDS = 300
# New namespaces arriving within this window share one sync run (and so one scan).
BATCH_SECONDS = 0.25
MAX_BACKOFF = 60.0


@dataclass
class Watch:
    """One watch loop: a cluster and a collection (namespaces or serviceaccounts)."""

    cluster_id: int
    resource: str  # "namespaces" | "serviceaccounts"
    stop: threading.Event = field(default_factory=threading.Event)
    on_error: Callable[[str], None] | None = None
    resource_version: str = ""
    watch_seconds: int = WATCH_SECONDS
    _pending: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _timer: threading.Timer | None = field(default=None, repr=False)

    @property
    def path(self) -> str:
        return f"/api/v1/{self.resource}"

    def run(self) -> None:
        backoff = 1.0
        while not self.stop.is_set():
            close_old_connections()
            cluster = Cluster.objects.filter(pk=self.cluster_id).first()
            if cluster is None:
                return
            try:
                with cluster_client(cluster, retries=1) as client:
                    if not self.resource_version:
                        # Start from "now": what already exists is the scan's business.
                        _items, self.resource_version = client.list_all(self.path, limit=1)
                    for event in client.watch(
                        self.path,
                        resource_version=self.resource_version,
                        timeout_seconds=self.watch_seconds,
                    ):
                        if self.stop.is_set():
                            return
                        self._handle(cluster, event)
                        backoff = 1.0
            except KubeError as exc:
                if exc.status == 410:
                    logger.info("watch of %s on %s expired; relisting", self.resource, cluster.name)
                    self.resource_version = ""
                    services.cluster_scan_queue(actor="watcher", cluster=cluster)
                    continue
                logger.warning(
                    "watch of %s on %s failed: %s (retrying in %.0fs)",
                    self.resource,
                    cluster.name,
                    exc.message,
                    backoff,
                )
                if self.on_error:
                    self.on_error(exc.message)
                self.stop.wait(backoff * (0.5 + random.random()))  # noqa: S311
                backoff = min(MAX_BACKOFF, backoff * 2)
            except Exception:
                logger.exception(
                    "watch of %s on cluster %s crashed", self.resource, self.cluster_id
                )
                self.stop.wait(backoff)
                backoff = min(MAX_BACKOFF, backoff * 2)

    def _handle(self, cluster: Cluster, event: dict) -> None:
        obj = event.get("object") or {}
        meta = obj.get("metadata") or {}
        self.resource_version = meta.get("resourceVersion") or self.resource_version
        if event.get("type") != "ADDED":
            return
        if self.resource == "namespaces":
            self._queue_namespace(cluster, meta.get("name", ""), meta.get("labels") or {})
        else:
            close_old_connections()
            services.service_account_appeared(
                cluster=cluster, namespace=meta.get("namespace", ""), name=meta.get("name", "")
            )

    def _queue_namespace(self, cluster: Cluster, name: str, labels: dict[str, str]) -> None:
        """Collect namespaces that arrive together (a Helm install, a script) into one sync."""
        if not name:
            return
        with self._lock:
            self._pending[name] = labels
            if self._timer is None:
                self._timer = threading.Timer(BATCH_SECONDS, self._flush, args=(cluster,))
                self._timer.daemon = True
                self._timer.start()

    def _flush(self, cluster: Cluster) -> None:
        with self._lock:
            batch, self._pending, self._timer = self._pending, {}, None
        try:
            services.namespaces_appeared(cluster=cluster, namespaces=batch)
        except Exception:
            logger.exception("syncing new namespaces of %s failed", cluster.name)
        finally:
            connection.close()  # this timer thread's own connection


class Watcher:
    """Keeps one namespace watch and one service-account watch per reachable cluster."""

    def __init__(self, *, refresh_seconds: float = 30.0, watch_seconds: int = WATCH_SECONDS):
        self.refresh_seconds = refresh_seconds
        self.watch_seconds = watch_seconds
        self.watches: dict[tuple[int, str], tuple[Watch, threading.Thread]] = {}
        self.stopping = threading.Event()

    def refresh(self) -> None:
        close_old_connections()
        wanted = set(
            Cluster.objects.filter(check_status=Cluster.Check.OK).values_list("pk", flat=True)
        )
        for key, (watch, _thread) in list(self.watches.items()):
            if key[0] not in wanted:
                watch.stop.set()
                del self.watches[key]
        for cluster_id in wanted:
            for resource in ("namespaces", "serviceaccounts"):
                key = (cluster_id, resource)
                if key in self.watches and self.watches[key][1].is_alive():
                    continue
                watch = Watch(cluster_id, resource, watch_seconds=self.watch_seconds)
                thread = threading.Thread(
                    target=watch.run, daemon=True, name=f"watch-{cluster_id}-{resource}"
                )
                thread.start()
                self.watches[key] = (watch, thread)

    def run_forever(self) -> None:
        while not self.stopping.is_set():
            self.refresh()
            self.stopping.wait(self.refresh_seconds)
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        for watch, _thread in self.watches.values():
            watch.stop.set()
        deadline = time.monotonic() + 5
        for _watch, thread in self.watches.values():
            thread.join(max(0.0, deadline - time.monotonic()))
