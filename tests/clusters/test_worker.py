"""A real Celery worker process, on the configured broker (file system, or Redis in CI's
second pass), against the test database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from clusters import services, sync
from clusters.models import SyncRun
from tests.kubeapi.server import Fault

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    """Start `celery worker` as a separate process group; yield it; stop it."""
    started = []

    def start(**env_extra):
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "REGCRED_VAR_DIR": str(settings.VAR_DIR),
            **env_extra,
        }
        log = (tmp_path / f"worker-{len(started)}.log").open("w")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "dashboard",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test-{os.getpid()}-{len(started)}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def wait_until(predicate, timeout: float = 60.0, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting")


@pytest.fixture(autouse=True)
def _empty_queue():
    """A run of an earlier test must not be picked up by this test's worker."""
    from dashboard.celery import app

    app.control.purge()


def test_a_real_worker_runs_a_sync_to_the_end(kubeapi, cluster, policy, operator, worker):
    for i in range(10):
        kubeapi.create_namespace(f"team-{i}")
    worker()

    run = services.sync_run_start(actor=operator, clusters=[cluster], policy=policy)

    finished = wait_until(lambda: SyncRun.objects.filter(pk=run.pk, state="succeeded").first())
    assert (finished.created_count, finished.failed_count) == (11, 0)
    assert kubeapi.get_object("secrets", "team-7", "coding-regcred") is not None


def test_a_worker_killed_mid_run_leaves_a_run_marked_failed(
    kubeapi, cluster, policy, operator, worker
):
    for i in range(30):
        kubeapi.create_namespace(f"team-{i:02d}")
    kubeapi.faults.add(
        Fault(method="POST", path="/secrets", action="latency", delay_ms=300, times=None)
    )
    process = worker(REGCRED_SYNC_CONCURRENCY="1")

    run = services.sync_run_start(actor=operator, clusters=[cluster], policy=policy)
    wait_until(lambda: SyncRun.objects.filter(pk=run.pk, created_count__gte=3).exists())
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)

    run.refresh_from_db()
    assert run.state == "running"
    time.sleep(1.5)
    assert sync.reap_stale_runs(older_than=1) == 1
    run.refresh_from_db()
    assert run.state == "failed" and "stopped responding" in run.error
    created = [
        ns
        for ns in (f"team-{i:02d}" for i in range(30))
        if kubeapi.get_object("secrets", ns, "coding-regcred")
    ]
    assert 3 <= len(created) < 30
