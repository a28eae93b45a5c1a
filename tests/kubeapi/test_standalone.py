"""`python -m tests.kubeapi`: start, seed, kubeconfig, serve, exit cleanly on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from kubernetes import client, config

REPO = Path(__file__).resolve().parents[2]


def test_the_standalone_server_seeds_writes_a_kubeconfig_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    kubeconfig = tmp_path / "admin.kubeconfig"
    started = time.monotonic()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.kubeapi",
            "--port",
            "0",
            "--namespaces",
            "5000",
            "--write-kubeconfig",
            str(kubeconfig),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        ready = time.monotonic() - started
        api = client.CoreV1Api(
            config.new_client_from_config_dict(yaml.safe_load(kubeconfig.read_text()))
        )
        first = api.list_namespace(limit=500)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert url.startswith("https://127.0.0.1:")
    assert ready < 8, f"start-up with 5000 namespaces took {ready:.1f}s"
    assert len(first.items) == 500
    assert first.metadata.remaining_item_count == 4504
    assert code == 0
