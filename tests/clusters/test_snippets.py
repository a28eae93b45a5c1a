"""Snippets people copy: valid YAML, the right names, and never the stored password."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess

import pytest
import yaml
from django.urls import reverse

from clusters import services, snippets, sync
from tests.clusters.conftest import PASSWORD


@pytest.fixture
def items(credential):
    return {
        s.key: s
        for s in snippets.snippets_for(
            secret_name="coding-regcred", namespace="team-a", credential=credential, tke=True
        )
    }


def test_every_yaml_snippet_parses_and_names_the_secret(items):
    expected = {
        "deployment": "Deployment",
        "deployment-private": "Deployment",
        "secret-manifest": "Secret",
        "sa-yaml": "ServiceAccount",
        "kustomize": "Kustomization",
    }
    for key, kind in expected.items():
        document = yaml.safe_load(items[key].text)
        assert document["kind"] == kind, key
    for key in ("deployment", "deployment-private"):
        spec = yaml.safe_load(items[key].text)["spec"]["template"]["spec"]
        assert spec["imagePullSecrets"] == [{"name": "coding-regcred"}]
        assert yaml.safe_load(items[key].text)["metadata"]["namespace"] == "team-a"
    assert yaml.safe_load(items["helm"].text) == {"imagePullSecrets": [{"name": "coding-regcred"}]}
    patch = yaml.safe_load(yaml.safe_load(items["kustomize"].text)["patches"][0]["patch"])
    assert patch == [
        {
            "op": "add",
            "path": "/spec/template/spec/imagePullSecrets",
            "value": [{"name": "coding-regcred"}],
        }
    ]
    sa = yaml.safe_load(items["sa-yaml"].text)
    assert (sa["metadata"], sa["imagePullSecrets"]) == (
        {"name": "default", "namespace": "team-a"},
        [{"name": "coding-regcred"}],
    )


def test_the_seed_deployment_is_nginx_on_port_80(items):
    container = yaml.safe_load(items["deployment"].text)["spec"]["template"]["spec"]["containers"][
        0
    ]
    assert container == {"name": "nginx", "image": "nginx:1.14.2", "ports": [{"containerPort": 80}]}
    private = yaml.safe_load(items["deployment-private"].text)["spec"]["template"]["spec"][
        "containers"
    ][0]["image"]
    assert private.startswith("team-docker.pkg.coding.net/")


def test_no_snippet_contains_the_stored_password(items):
    encoded = base64.b64encode(f"ci@example.com:{PASSWORD}".encode()).decode()
    for item in items.values():
        assert PASSWORD not in item.text and encoded not in item.text, item.key


def test_the_tke_console_table_maps_each_form_field(items):
    rows = dict(items["tke-console"].rows)
    assert rows["Name (名称)"] == "coding-regcred"
    assert rows["Secret type (Secret类型)"] == "Dockercfg"
    assert rows["Registry domain (仓库域名)"] == "team-docker.pkg.coding.net"
    assert rows["Username (用户名)"] == "ci@example.com"


def test_the_kubectl_command_is_safe_to_paste_with_odd_names(credential):
    command = snippets.create_secret_command(
        secret_name="s", namespace="team-a", server="r.example.com", username="o'brien"
    )
    assert "'--docker-username=o'\"'\"'brien'" in command


def _run_sh(script: str, tmp_path, **env) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env},
    )


def test_the_filled_in_manifest_is_byte_identical_to_the_secret_we_write(
    kubeapi, cluster, policy, tmp_path, items
):
    if shutil.which("envsubst") is None:
        pytest.skip("envsubst (gettext-base) is not installed")
    run = services.sync_run_start(actor=None, clusters=[cluster], policy=policy)
    sync.sync_cluster(run_id=run.pk, cluster_id=cluster.pk)
    ours = base64.b64decode(
        kubeapi.get_object("secrets", "default", "coding-regcred")["data"][".dockerconfigjson"]
    )
    manifest = snippets.secret_manifest(
        secret_name="coding-regcred",
        namespace="default",
        server=policy.credential.server,
        username=policy.credential.username,
        email=policy.credential.email,
    )
    (tmp_path / "secret.yaml").write_text(manifest)
    fill = snippets.fill_in_command(username=policy.credential.username).splitlines()[0]
    result = _run_sh(
        f"{fill}\nenvsubst '$REGISTRY_PASSWORD $REGISTRY_AUTH' < secret.yaml",
        tmp_path,
        REGISTRY_PASSWORD=PASSWORD,
    )
    assert result.returncode == 0, result.stderr
    filled = yaml.safe_load(result.stdout)["stringData"][".dockerconfigjson"]
    assert filled.encode() == ours


def test_the_kubectl_command_makes_byte_identical_content(
    kubeapi, cluster, policy, tmp_path, items
):
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")
    run = services.sync_run_start(actor=None, clusters=[cluster], policy=policy)
    sync.sync_cluster(run_id=run.pk, cluster_id=cluster.pk)
    ours = kubeapi.get_object("secrets", "default", "coding-regcred")
    kubeapi.write_kubeconfig(tmp_path / "config")
    command = snippets.create_secret_command(
        secret_name="coding-regcred",
        namespace="default",
        server=policy.credential.server,
        username=policy.credential.username,
        email=policy.credential.email,
    )
    result = _run_sh(
        f"{command} --dry-run=client -o json --kubeconfig config --cache-dir {tmp_path}/cache",
        tmp_path,
        REGISTRY_PASSWORD=PASSWORD,
    )
    assert result.returncode == 0, result.stderr
    theirs = json.loads(result.stdout)
    assert theirs["data"] == ours["data"] and theirs["type"] == ours["type"]


def test_the_snippets_page_shows_them_to_a_viewer(viewer_client, policy):
    url = reverse("clusters:policy-snippets", args=[policy.pk])
    html = viewer_client.get(url, {"namespace": "team-a"}).content.decode()
    assert "kubectl create secret docker-registry coding-regcred" in html
    assert "-n team-a" in html and PASSWORD not in html
    assert 'data-copy-target="code-deployment"' in html


def test_a_bad_namespace_on_the_snippets_page_is_explained(viewer_client, policy):
    url = reverse("clusters:policy-snippets", args=[policy.pk])
    html = viewer_client.get(url, {"namespace": "Bad Name!"}).content.decode()
    assert "is not a namespace name" in html and "-n default" in html


def test_a_tke_account_shows_sample_usage_right_after_onboarding(
    viewer_client, credential, operator
):
    from accounts.models import CloudAccount
    from clusters.models import PullSecretPolicy

    account = CloudAccount.objects.create(name="tke", kind="tke", tke_region="ap-guangzhou")
    PullSecretPolicy.objects.create(
        name="tke-default",
        credential=credential,
        account=account,
        secret_name=f"coding-registry-cred-{operator.pk}",
    )
    html = viewer_client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "Sample usage" in html
    assert f"- name: coding-registry-cred-{operator.pk}" in html
    assert "image: nginx:1.14.2" in html and PASSWORD not in html


def test_other_accounts_show_no_tke_sample(viewer_client, account, policy):
    html = viewer_client.get(reverse("accounts:detail", args=[account.pk])).content.decode()
    assert "Sample usage" not in html
