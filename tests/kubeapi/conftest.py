"""Fixtures for the fake's own tests: admin API clients and the real kubectl."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client

from .clients import api_client
from .server import KubeApiServer


@dataclass
class KubectlRunner:
    """Runs the real kubectl with a private HOME, cache dir and kubeconfig."""

    home: Path
    cache: Path
    kubeconfig: Path

    def env(self, kubeconfig: Path | None = None) -> dict[str, str]:
        """A minimal environment so the developer's own ~/.kube never leaks in."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "KUBECONFIG": str(kubeconfig or self.kubeconfig),
        }

    def command(self, *args: str) -> list[str]:
        """The argv for one kubectl call."""
        return ["kubectl", f"--cache-dir={self.cache}", *args]

    def __call__(
        self, *args: str, kubeconfig: Path | None = None, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            env=self.env(kubeconfig),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def popen(self, *args: str, kubeconfig: Path | None = None) -> subprocess.Popen[str]:
        """Start kubectl in the background (for `get -w`)."""
        return subprocess.Popen(
            self.command(*args),
            env=self.env(kubeconfig),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )


@pytest.fixture
def kubectl(kubeapi: KubeApiServer, tmp_path: Path) -> KubectlRunner:
    """kubectl pointed at the fake as admin; skipped visibly when kubectl is missing."""
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not on PATH; the kubectl-compatibility checks need it")
    home = tmp_path / "home"
    home.mkdir()
    admin = kubeapi.write_kubeconfig(tmp_path / "admin.kubeconfig")
    return KubectlRunner(home, tmp_path / "cache", admin)


@pytest.fixture
def core(kubeapi: KubeApiServer) -> client.CoreV1Api:
    """CoreV1Api as the cluster admin."""
    return client.CoreV1Api(api_client(kubeapi))


@pytest.fixture
def apps(kubeapi: KubeApiServer) -> client.AppsV1Api:
    """AppsV1Api as the cluster admin."""
    return client.AppsV1Api(api_client(kubeapi))
