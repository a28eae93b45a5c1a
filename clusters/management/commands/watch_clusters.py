"""The long-running watcher: new namespaces and service accounts get their Secret at once."""

from __future__ import annotations

import signal

from django.core.management.base import BaseCommand

from clusters.watcher import Watcher


class Command(BaseCommand):
    help = "Watch every reachable cluster and sync new namespaces and service accounts at once."

    def add_arguments(self, parser):
        parser.add_argument(
            "--refresh",
            type=float,
            default=30.0,
            help="seconds between looking for added or removed clusters",
        )

    def handle(self, *args, refresh: float, **options):
        watcher = Watcher(refresh_seconds=refresh)

        def stop(signum, frame):
            watcher.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(
            "Watching clusters for new namespaces and service accounts (Ctrl-C stops)."
        )
        watcher.run_forever()
        self.stdout.write("Watcher stopped.")
