"""Waiting for and reporting on sync runs from the command line."""

from __future__ import annotations

import time

from django.core.management.base import CommandError

from clusters.models import SyncRun


def wait_for(run: SyncRun, *, timeout: float, stdout) -> SyncRun:
    """Poll the run row until a worker finishes it; show progress as it goes."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        run.refresh_from_db()
        progress = (run.state, run.done_count, run.total)
        if progress != last:
            stdout.write(f"  {run.state}: {run.done_count}/{run.total} namespaces")
            last = progress
        if run.is_finished:
            return run
        if time.monotonic() > deadline:
            raise CommandError(
                f"Run {run.pk} did not finish within {timeout:.0f}s; is a worker running? "
                "(Use --inline to run it in this process.)"
            )
        time.sleep(0.5)


def report(run: SyncRun, stdout) -> None:
    stdout.write(
        f"Run {run.pk} {run.state}: {run.created_count} created, {run.updated_count} updated, "
        f"{run.unchanged_count} unchanged, {run.skipped_count} skipped, "
        f"{run.failed_count} failed."
    )
    for result in run.results.filter(outcome="failed").select_related("cluster")[:50]:
        where = (
            f"{result.cluster.name}/{result.namespace}" if result.namespace else result.cluster.name
        )
        stdout.write(f"  failed {where}: {result.reason}")
    if run.error:
        stdout.write(f"  {run.error}")
