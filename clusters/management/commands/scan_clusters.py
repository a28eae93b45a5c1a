"""Scan clusters now: which namespaces have their pull Secrets."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from clusters import services
from clusters.kube import KubeError
from clusters.models import Cluster
from clusters.tasks import scan_cluster_task


class Command(BaseCommand):
    help = "Scan every cluster (or one) for pull-Secret status."

    def add_arguments(self, parser):
        parser.add_argument("--cluster", help="cluster name (default: all)")
        how = parser.add_mutually_exclusive_group()
        how.add_argument("--wait", action="store_true", help="wait for the workers")
        how.add_argument("--inline", action="store_true", help="scan in this process")
        parser.add_argument("--timeout", type=float, default=600)

    def handle(self, *args, cluster=None, wait=False, inline=False, timeout=600, **opts):
        clusters = Cluster.objects.order_by("name")
        if cluster:
            clusters = clusters.filter(name=cluster)
            if not clusters.exists():
                raise CommandError(f'No cluster named "{cluster}".')
        clusters = list(clusters)
        if not clusters:
            self.stdout.write("No clusters to scan.")
            return
        failed = 0
        if inline:
            for item in clusters:
                try:
                    outcome = services.cluster_scan(cluster_id=item.pk)
                except KubeError as exc:
                    failed += 1
                    self.stdout.write(f"{item.name}: failed: {exc.message}")
                    continue
                counts = ", ".join(f"{n} {s}" for s, n in sorted(outcome.statuses.items()))
                self.stdout.write(
                    f"{item.name}: {outcome.namespaces} namespaces; {counts or 'no policy'}"
                )
        else:
            started = timezone.now()
            for item in clusters:
                scan_cluster_task.delay(item.pk)
            self.stdout.write(f"Queued {len(clusters)} scan(s).")
            if not wait:
                return
            deadline = time.monotonic() + timeout
            pending = {c.pk for c in clusters}
            while pending:
                done = Cluster.objects.filter(pk__in=pending, last_scan_at__gte=started)
                for item in done:
                    pending.discard(item.pk)
                    state = f"failed: {item.last_scan_error}" if item.last_scan_error else "ok"
                    failed += bool(item.last_scan_error)
                    self.stdout.write(f"{item.name}: {state}")
                if pending and time.monotonic() > deadline:
                    raise CommandError(
                        f"{len(pending)} scan(s) did not finish in time; is a worker running?"
                    )
                time.sleep(0.5)
        if failed:
            raise CommandError(f"{failed} cluster scan(s) failed.")
