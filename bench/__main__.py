"""`make bench`: scan and sync figures beside a naive baseline, in one process.

Both talk to the same fake kube-apiserver (tests/kubeapi) over HTTPS with the same added
latency per request, so the difference is the number and shape of the calls:

  ours     4 paginated LISTs per scan, then only the writes the scan says are needed,
           on a bounded thread pool sharing one connection pool.
  naive    what a hand-written loop does: GET the Secret in each namespace, create it when
           missing, one request after another, models deserialised by the client.

Usage: python -m bench [--namespaces N] [--latency-ms L] [--concurrency C]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _django(var_dir: str) -> None:
    os.environ["REGCRED_VAR_DIR"] = var_dir
    os.environ["DATABASE_URL"] = f"sqlite:///{var_dir}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _setup(server, name: str = "bench"):
    from accounts.kubeconfig import validate_kubeconfig
    from accounts.models import CloudAccount, RegistryCredential
    from clusters.models import Cluster, PullSecretPolicy

    context = validate_kubeconfig(json.dumps(server.kubeconfig())).contexts[0]
    account = CloudAccount.objects.create(name=name, kind="kubeconfig")
    cluster = Cluster.objects.create(
        account=account,
        name=name,
        server=context.server,
        connection=json.dumps(context.to_dict()),
        check_status="ok",
    )
    credential = RegistryCredential.objects.create(
        name=name,
        server="registry.example.com",
        username=name,
        password="bench-pw",
    )
    policy = PullSecretPolicy.objects.create(
        name=name,
        credential=credential,
        cluster=cluster,
        secret_name="regcred",
    )
    return cluster, policy


def _writes(server) -> int:
    return sum(1 for r in server.requests if r.method in ("POST", "PUT", "PATCH", "DELETE"))


def _ours(server, cluster, policy) -> list[tuple[str, int, int, float]]:
    from clusters import services, sync

    rows = []
    server.clear_requests()
    start = time.perf_counter()
    services.cluster_scan(cluster_id=cluster.pk)
    rows.append(("scan", len(server.requests), _writes(server), time.perf_counter() - start))
    for label in ("sync (first)", "sync (again)"):
        server.clear_requests()
        start = time.perf_counter()
        run = services.sync_run_start(actor=None, clusters=[cluster], policy=policy, dispatch=False)
        sync.sync_cluster(run_id=run.pk, cluster_id=cluster.pk)
        rows.append((label, len(server.requests), _writes(server), time.perf_counter() - start))
    return rows


def _naive(server, content: bytes) -> list[tuple[str, int, int, float]]:
    from kubernetes import client, config
    from kubernetes.client.exceptions import ApiException

    api = client.CoreV1Api(config.new_client_from_config_dict(server.kubeconfig()))
    body = client.V1Secret(
        metadata=client.V1ObjectMeta(name="regcred"),
        type="kubernetes.io/dockerconfigjson",
        data={".dockerconfigjson": base64.b64encode(content).decode()},
    )
    skip = {"kube-system", "kube-public", "kube-node-lease"}
    rows = []
    server.clear_requests()
    start = time.perf_counter()
    names = [ns.metadata.name for ns in api.list_namespace().items]
    missing = []
    for name in names:
        if name in skip:
            continue
        try:
            api.read_namespaced_secret("regcred", name)
        except ApiException as exc:
            if exc.status == 404:
                missing.append(name)
    rows.append(("scan", len(server.requests), _writes(server), time.perf_counter() - start))
    for label in ("sync (first)", "sync (again)"):
        server.clear_requests()
        start = time.perf_counter()
        for name in [ns.metadata.name for ns in api.list_namespace().items]:
            if name in skip:
                continue
            try:
                current = api.read_namespaced_secret("regcred", name)
            except ApiException as exc:
                if exc.status != 404:
                    raise
                api.create_namespaced_secret(name, body)
                continue
            if current.data != body.data:
                api.replace_namespaced_secret("regcred", name, body)
        rows.append((label, len(server.requests), _writes(server), time.perf_counter() - start))
    api.api_client.close()
    return rows


def _coverage(clusters: int, namespaces: int) -> None:
    """The coverage page and its CSV at fleet size, against a page built the naive way."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import CloudAccount, RegistryCredential
    from clusters.models import Cluster, Namespace, PullSecretPolicy, SecretStatus

    account = CloudAccount.objects.create(name="fleet", kind="kubeconfig")
    credential = RegistryCredential.objects.create(
        name="fleet", server="registry.example.com", username="u", password="p"
    )
    now = timezone.now()
    statuses = ["in_sync", "in_sync", "in_sync", "missing", "stale", "unmanaged"]
    for c in range(clusters):
        cluster = Cluster.objects.create(
            account=account, name=f"fleet-{c:03d}", server="https://x", connection="{}"
        )
        policy = PullSecretPolicy.objects.create(
            name=f"fleet-{c:03d}", credential=credential, cluster=cluster, secret_name="regcred"
        )
        rows = Namespace.objects.bulk_create(
            [Namespace(cluster=cluster, name=f"ns-{i:04d}") for i in range(namespaces)]
        )
        SecretStatus.objects.bulk_create(
            [
                SecretStatus(
                    cluster=cluster,
                    namespace=ns,
                    policy=policy,
                    secret_name="regcred",
                    status=statuses[i % len(statuses)],
                    checked_at=now,
                )
                for i, ns in enumerate(rows)
            ]
        )
    user = get_user_model().objects.create_superuser("bench", password="x")
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)

    def timed(url, **query):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url, query)
            if response.streaming:
                size = sum(len(chunk) for chunk in response.streaming_content)
            else:
                size = len(response.content)
            elapsed = time.perf_counter() - start
        return len(queries.captured_queries), elapsed, size

    def naive_page():
        # What a first version would do: no joins, one query per row for each relation.
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            for row in SecretStatus.objects.order_by("cluster_id", "namespace_id")[:100]:
                _ = (
                    row.cluster.name,
                    row.cluster.account.name,
                    row.namespace.name,
                    row.policy.name,
                    row.policy.credential.name,
                )
            counts = {s: SecretStatus.objects.filter(status=s).count() for s in set(statuses)}
            elapsed = time.perf_counter() - start
        return len(queries.captured_queries), elapsed, len(counts)

    total = clusters * namespaces
    print(f"\nCoverage at {clusters} clusters x {namespaces} namespaces ({total} rows, SQLite):")
    print(f"{'view':<34}{'queries':>9}{'seconds':>9}{'bytes':>12}")
    for label, url, query in [
        ("coverage page 1", "/audit/coverage/", {}),
        ("coverage page 250", "/audit/coverage/", {"page": 250}),
        (
            "coverage, status=missing, ns-0042",
            "/audit/coverage/",
            {"status": "missing", "q": "ns-0042"},
        ),
        ("coverage.csv (all rows)", "/audit/coverage.csv", {}),
    ]:
        n, seconds, size = timed(url, **query)
        print(f"{label:<34}{n:>9}{seconds:>9.2f}{size:>12}")
    n, seconds, _size = naive_page()
    print(f"{'naive page (N+1, count per status)':<34}{n:>9}{seconds:>9.2f}{'':>12}")


def _watch_latency(samples: int) -> None:
    """From `create namespace` to the Secret being there: watcher + a real worker process."""
    import signal
    import subprocess
    import threading

    from kubernetes import client as k8s
    from kubernetes import config as k8s_config

    from clusters.watcher import Watch
    from tests.kubeapi.server import KubeApiServer

    broker = os.environ.get("CELERY_BROKER_URL", "filesystem://")
    print(f"\nWatcher latency through a real worker ({broker.split(':')[0]} broker):")
    with KubeApiServer() as server:
        cluster, _policy = _setup(server, name="watched")
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "dashboard",
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "-n",
                "bench@%h",
            ],
            cwd=ROOT,
            env=os.environ.copy(),
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        watch = Watch(cluster.pk, "namespaces", watch_seconds=30)
        thread = threading.Thread(target=watch.run, daemon=True)
        thread.start()
        try:
            time.sleep(3)  # worker start-up and the watch's first list
            api = k8s.CoreV1Api(k8s_config.new_client_from_config_dict(server.kubeconfig()))
            times = []
            for i in range(samples):
                name = f"latency-{i}"
                start = time.perf_counter()
                api.create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name=name)))
                while server.get_object("secrets", name, "regcred") is None:
                    if time.perf_counter() - start > 30:
                        raise SystemExit("the Secret never appeared: is the worker running?")
                    time.sleep(0.005)
                times.append(time.perf_counter() - start)
                time.sleep(0.5)
        finally:
            watch.stop.set()
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(20)
    times.sort()
    print(
        f"  {samples} namespaces: median {times[len(times) // 2] * 1000:.0f} ms, "
        f"max {times[-1] * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=1000)
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=2,
        help="added to every request, as a network round trip would be",
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--latency-samples",
        type=int,
        default=5,
        help="new namespaces timed through the watcher and a real worker",
    )
    parser.add_argument(
        "--clusters", type=int, default=100, help="clusters in the coverage measurement"
    )
    parser.add_argument(
        "--cluster-namespaces",
        type=int,
        default=500,
        help="namespaces per cluster in the coverage measurement",
    )
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="regcred-bench-")
    os.environ["REGCRED_SYNC_CONCURRENCY"] = str(args.concurrency)
    _django(var_dir)
    from accounts.dockerconfig import dockerconfigjson
    from tests.kubeapi.server import KubeApiServer

    print(
        f"Fake kube-apiserver over HTTPS, {args.namespaces} namespaces "
        f"(+4 system), {args.latency_ms} ms added per request, "
        f"sync concurrency {args.concurrency}.\n"
    )
    with KubeApiServer(namespaces=args.namespaces, latency_ms=args.latency_ms) as server:
        cluster, policy = _setup(server)
        ours = _ours(server, cluster, policy)
        server.reset()
        naive = _naive(
            server,
            dockerconfigjson(server="registry.example.com", username="bench", password="bench-pw"),
        )

    header = (
        f"{'step':<14}{'ours: requests':>16}{'writes':>8}{'seconds':>9}"
        f"{'naive: requests':>18}{'writes':>8}{'seconds':>9}{'speed-up':>10}"
    )
    print(header)
    print("-" * len(header))
    for (label, r1, w1, t1), (_label, r2, w2, t2) in zip(ours, naive, strict=True):
        print(
            f"{label:<14}{r1:>16}{w1:>8}{t1:>9.2f}{r2:>18}{w2:>8}{t2:>9.2f}"
            f"{t2 / t1 if t1 else 0:>9.1f}x"
        )
    _coverage(args.clusters, args.cluster_namespaces)
    _watch_latency(args.latency_samples)


if __name__ == "__main__":
    main()
