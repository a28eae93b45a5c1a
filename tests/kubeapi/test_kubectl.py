"""The real kubectl (1.32 via the gcloud dispatcher) against the fake, asserting what it prints."""

from __future__ import annotations

import base64
import json
import queue
import subprocess
import threading
import time
from pathlib import Path

import pytest

from .conftest import KubectlRunner
from .server import KubeApiServer

pytestmark = pytest.mark.kubectl

CREATE_REGCRED = (
    "create",
    "secret",
    "docker-registry",
    "regcred",
    "--docker-server=registry.example.com",
    "--docker-username=robot",
    "--docker-password=s3cret",
    "-n",
    "default",
)


class LineReader:
    """Collects a background kubectl's stdout lines from a single reader thread."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        self._lines: queue.Queue[str] = queue.Queue()
        stdout = proc.stdout
        threading.Thread(
            target=lambda: [self._lines.put(line) for line in stdout], daemon=True
        ).start()

    def until(self, needle: str, timeout: float) -> list[str]:
        """Lines read until one contains `needle` (or time runs out)."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.1)
            except queue.Empty:
                continue
            seen.append(line.rstrip("\n"))
            if needle in line:
                break
        return seen


def test_kubectl_gets_namespaces_with_server_side_columns(kubectl: KubectlRunner) -> None:
    result = kubectl("get", "ns")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "STATUS", "AGE"]
    assert lines[1].split()[:2] == ["default", "Active"]


def test_kubectl_creates_a_docker_registry_secret(
    kubeapi: KubeApiServer, kubectl: KubectlRunner
) -> None:
    result = kubectl(*CREATE_REGCRED)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "secret/regcred created"
    stored = kubeapi.get_object("secrets", "default", "regcred")
    assert stored is not None
    config = json.loads(base64.b64decode(stored["data"][".dockerconfigjson"]))
    assert config["auths"]["registry.example.com"]["username"] == "robot"
    assert stored["metadata"]["managedFields"][0]["manager"] == "kubectl-create"
    (post,) = kubeapi.requests_matching(method="POST")
    assert post.content_type == "application/vnd.kubernetes.protobuf"


def test_kubectl_creates_a_namespace_and_the_controller_adds_its_service_account(
    kubeapi: KubeApiServer, kubectl: KubectlRunner
) -> None:
    created = kubectl("create", "namespace", "team-a")
    accounts = kubectl("get", "serviceaccounts", "-n", "team-a", "-o", "name")

    assert created.stdout.strip() == "namespace/team-a created"
    assert accounts.stdout.split() == ["serviceaccount/default"]


def test_kubectl_reports_a_duplicate_secret(kubectl: KubectlRunner) -> None:
    kubectl(*CREATE_REGCRED)

    result = kubectl(*CREATE_REGCRED)

    assert result.returncode == 1
    assert (
        result.stderr.strip() == 'error: failed to create secret secrets "regcred" already exists'
    )


def test_kubectl_reports_a_missing_secret(kubectl: KubectlRunner) -> None:
    result = kubectl("get", "secret", "nope", "-n", "default")

    assert result.returncode == 1
    assert result.stderr.strip() == 'Error from server (NotFound): secrets "nope" not found'


def test_kubectl_filters_by_field_selector(kubeapi: KubeApiServer, kubectl: KubectlRunner) -> None:
    kubectl(*CREATE_REGCRED)
    kubeapi.put_object("secrets", {"metadata": {"name": "plain"}}, "kube-system")

    result = kubectl(
        "get",
        "secrets",
        "-A",
        "--field-selector",
        "type=kubernetes.io/dockerconfigjson",
        "-o",
        "name",
    )

    assert result.stdout.split() == ["secret/regcred"]
    (listing,) = kubeapi.requests_matching(verb="list", kind="secrets")
    assert listing.query == {"fieldSelector": "type=kubernetes.io/dockerconfigjson", "limit": "500"}


def test_kubectl_prints_the_unsupported_field_error(kubectl: KubectlRunner) -> None:
    result = kubectl("get", "secrets", "-A", "--field-selector", "foo=bar")

    assert result.returncode == 1
    assert result.stderr.strip() == (
        'Error from server (BadRequest): Unable to find "/v1, Resource=secrets" that match label '
        'selector "", field selector "foo=bar": field label not supported: foo'
    )


def test_kubectl_labels_and_selects_by_label(
    kubeapi: KubeApiServer, kubectl: KubectlRunner
) -> None:
    kubectl(*CREATE_REGCRED)

    labelled = kubectl("label", "secret", "regcred", "-n", "default", "team=a")
    selected = kubectl("get", "secrets", "-A", "-l", "team=a", "-o", "name")
    none = kubectl("get", "secrets", "-A", "-l", "team=b", "-o", "name")

    assert labelled.stdout.strip() == "secret/regcred labeled"
    assert selected.stdout.split() == ["secret/regcred"]
    assert none.stdout.strip() == ""
    managers = [
        e["manager"]
        for e in kubeapi.get_object("secrets", "default", "regcred")["metadata"]["managedFields"]
    ]
    assert managers == ["kubectl-create", "kubectl-label"]


def test_kubectl_patches_with_a_strategic_merge_patch(
    kubeapi: KubeApiServer, kubectl: KubectlRunner
) -> None:
    kubeapi.put_object(
        "serviceaccounts",
        {"metadata": {"name": "default"}, "imagePullSecrets": [{"name": "old"}]},
        "default",
    )

    result = kubectl(
        "patch",
        "serviceaccount",
        "default",
        "-n",
        "default",
        "-p",
        '{"imagePullSecrets":[{"name":"regcred"}]}',
    )

    assert result.stdout.strip() == "serviceaccount/default patched"
    sa = kubeapi.get_object("serviceaccounts", "default", "default")
    assert sa["imagePullSecrets"] == [{"name": "regcred"}]
    (patch,) = kubeapi.requests_matching(method="PATCH")
    assert patch.content_type == "application/strategic-merge-patch+json"


def test_kubectl_pages_with_chunk_size(kubeapi: KubeApiServer, kubectl: KubectlRunner) -> None:
    result = kubectl("get", "ns", "--chunk-size=2", "-o", "name")

    assert result.stdout.split() == [
        "namespace/default",
        "namespace/kube-node-lease",
        "namespace/kube-public",
        "namespace/kube-system",
    ]
    pages = kubeapi.requests_matching(verb="list", kind="namespaces")
    assert [p.query.get("limit") for p in pages] == ["2", "2"]
    assert "continue" in pages[1].query


def test_kubectl_deletes_and_waits_for_the_404(
    kubeapi: KubeApiServer, kubectl: KubectlRunner
) -> None:
    kubectl(*CREATE_REGCRED)

    result = kubectl("delete", "secret", "regcred", "-n", "default")

    assert result.stdout.strip() == 'secret "regcred" deleted'
    assert kubeapi.get_object("secrets", "default", "regcred") is None


def test_kubectl_prints_every_validation_cause(kubectl: KubectlRunner, tmp_path: Path) -> None:
    manifest = tmp_path / "bad.json"
    manifest.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "Bad_Name", "namespace": "default"},
                "type": "kubernetes.io/dockerconfigjson",
            }
        )
    )

    result = kubectl("create", "-f", str(manifest), "--validate=false")

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == 'The Secret "Bad_Name" is invalid: '
    assert lines[1].startswith(
        '* metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain'
    )
    assert lines[2] == "* data[.dockerconfigjson]: Required value"


def test_kubectl_auth_can_i_says_yes_and_no(
    kubeapi: KubeApiServer, kubectl: KubectlRunner, tmp_path: Path
) -> None:
    kubeapi.add_token(
        "bob-token", user="bob", verbs=["create"], resources=["secrets"], namespaces=["default"]
    )
    bob = kubeapi.write_kubeconfig(tmp_path / "bob.kubeconfig", token="bob-token")

    yes = kubectl("auth", "can-i", "create", "secrets", "-n", "default", kubeconfig=bob)
    no = kubectl("auth", "can-i", "create", "secrets", "-n", "kube-system", kubeconfig=bob)

    assert (yes.returncode, yes.stdout.strip()) == (0, "yes")
    assert (no.returncode, no.stdout.strip()) == (1, "no")


def test_kubectl_with_a_namespace_limited_token_is_forbidden_elsewhere(
    kubeapi: KubeApiServer, kubectl: KubectlRunner, tmp_path: Path
) -> None:
    kubeapi.add_token("bob-token", user="bob", namespaces=["kube-public"])
    bob = kubeapi.write_kubeconfig(tmp_path / "bob.kubeconfig", token="bob-token")

    allowed = kubectl("get", "secrets", "-n", "kube-public", "-o", "name", kubeconfig=bob)
    denied = kubectl("get", "secrets", "-n", "default", kubeconfig=bob)

    assert allowed.returncode == 0, allowed.stderr
    assert denied.returncode == 1
    assert denied.stderr.strip() == (
        'Error from server (Forbidden): secrets is forbidden: User "bob" cannot list resource '
        '"secrets" in API group "" in the namespace "default"'
    )


def test_kubectl_with_a_client_certificate_is_accepted(
    kubeapi: KubeApiServer, kubectl: KubectlRunner, tmp_path: Path
) -> None:
    cert, key = kubeapi.issue_client_cert(cn="alice", groups=("system:masters",))
    alice = kubeapi.write_kubeconfig(tmp_path / "alice.kubeconfig", cert=cert, key=key)

    result = kubectl("get", "ns", "default", "-o", "name", kubeconfig=alice)

    assert result.stdout.strip() == "namespace/default"
    assert {r.user for r in kubeapi.requests} == {"alice"}


def test_kubectl_with_a_bad_token_must_log_in(
    kubeapi: KubeApiServer, kubectl: KubectlRunner, tmp_path: Path
) -> None:
    bad = kubeapi.write_kubeconfig(tmp_path / "bad.kubeconfig", token="not-a-token")

    can_i = kubectl("auth", "can-i", "create", "secrets", kubeconfig=bad)
    get = kubectl("get", "ns", kubeconfig=bad)

    assert can_i.returncode == get.returncode == 1
    assert can_i.stderr.strip().endswith(
        "error: You must be logged in to the server (Unauthorized)"
    )
    # Discovery's aggregated-format client cannot decode the 401 Status, so `get` prints
    # client-go's generic 401 sentence instead (a real apiserver gives the same output).
    assert get.stderr.strip().endswith(
        "error: You must be logged in to the server (the server has asked for the client to "
        "provide credentials)"
    )


def test_kubectl_watches_namespaces(kubeapi: KubeApiServer, kubectl: KubectlRunner) -> None:
    proc = kubectl.popen("get", "ns", "-w")
    reader = LineReader(proc)
    try:
        initial = reader.until("kube-system", timeout=15)
        kubeapi.create_namespace("team-a")
        later = reader.until("team-a", timeout=10)
    finally:
        proc.kill()
        proc.wait(timeout=5)

    assert initial[0].split() == ["NAME", "STATUS", "AGE"]
    assert later[-1].split()[:2] == ["team-a", "Active"]
    watches = kubeapi.requests_matching(verb="watch", kind="namespaces")
    assert len(watches) == 1 and watches[0].query["resourceVersion"]
