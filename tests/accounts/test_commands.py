"""Scripted onboarding: the commands use the forms' validation and the same services."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils.html import escape

from accounts.models import CloudAccount, RegistryCredential
from clusters.models import Cluster
from dashboard.models import AuditEvent
from tests.accounts.certs import make_ca

pytestmark = pytest.mark.django_db

CA = make_ca("cluster CA")


def kubeconfig(*, cluster: dict | None = None, user: dict | None = None, drop: str = "") -> bytes:
    """A one-context kubeconfig with one entry changed, as bytes."""
    document: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "prod",
                "cluster": {
                    "server": "https://k8s.example.com:6443",
                    "certificate-authority-data": CA.b64,
                }
                | (cluster or {}),
            }
        ],
        "users": [{"name": "ci-bot", "user": {"token": "ci-token"} | (user or {})}],
        "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "ci-bot"}}],
        "current-context": "prod",
    }
    if drop:
        del document[drop]
        document.pop("current-context")
    return yaml.safe_dump(document).encode()


ALIAS_BOMB = b"a: &a [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n".encode()
    for i in range(8)
)

# Every refusal the issue lists, with the words the person reads.
REFUSALS = [
    pytest.param(
        kubeconfig(user={"exec": {"command": "aws", "apiVersion": "v1"}}),
        'User "ci-bot" runs a command (exec plugin); only inline credentials are accepted.',
        id="exec",
    ),
    pytest.param(
        kubeconfig(user={"auth-provider": {"name": "gcp"}}),
        'User "ci-bot" uses an auth provider plugin; only inline credentials are accepted.',
        id="auth-provider",
    ),
    pytest.param(
        kubeconfig(user={"tokenFile": "/var/run/secrets/token"}),
        'User "ci-bot" refers to a file on this server (tokenFile); '
        "paste the content as token instead.",
        id="tokenFile",
    ),
    pytest.param(
        kubeconfig(user={"client-certificate": "/home/me/.kube/me.crt"}),
        'User "ci-bot" refers to a file on this server (client-certificate); '
        "paste the content as client-certificate-data instead.",
        id="client-certificate",
    ),
    pytest.param(
        kubeconfig(user={"client-key": "/home/me/.kube/me.key"}),
        'User "ci-bot" refers to a file on this server (client-key); '
        "paste the content as client-key-data instead.",
        id="client-key",
    ),
    pytest.param(
        kubeconfig(cluster={"certificate-authority": "/etc/kubernetes/pki/ca.crt"}),
        'Cluster "prod" refers to a file on this server (certificate-authority); '
        "paste the certificate as certificate-authority-data instead.",
        id="certificate-authority",
    ),
    pytest.param(
        b"# padding\n" * 30_000,
        "The kubeconfig is larger than 256 KiB.",
        id="over-256-kib",
    ),
    pytest.param(b"\xff\xfeclusters: []\n", "The kubeconfig is not UTF-8 text.", id="not-utf8"),
    pytest.param(
        b"clusters: [\n  - {name: prod",
        "The kubeconfig is neither JSON nor valid YAML "
        "(line 2: expected the node content, but found '-').",
        id="not-yaml",
    ),
    pytest.param(
        b'{"clusters": [}',
        "The kubeconfig is not valid JSON (line 1, column 15: Expecting value).",
        id="not-json",
    ),
    pytest.param(
        ALIAS_BOMB,
        "The kubeconfig expands to more data than any kubeconfig needs (YAML aliases).",
        id="alias-bomb",
    ),
    pytest.param(
        kubeconfig(drop="clusters"),
        'The kubeconfig has no "clusters" list, or it is empty.',
        id="no-clusters",
    ),
    pytest.param(
        kubeconfig(drop="users"),
        'The kubeconfig has no "users" list, or it is empty.',
        id="no-users",
    ),
    pytest.param(
        kubeconfig(drop="contexts"),
        'The kubeconfig has no "contexts" list, or it is empty.',
        id="no-contexts",
    ),
    pytest.param(
        kubeconfig(cluster={"certificate-authority-data": "not*base64!"}),
        'Cluster "prod": certificate-authority-data is not valid base64.',
        id="bad-base64",
    ),
    pytest.param(
        kubeconfig(cluster={"certificate-authority-data": "aGVsbG8="}),
        'Cluster "prod": certificate-authority-data is not a PEM certificate.',
        id="ca-not-pem",
    ),
    pytest.param(
        kubeconfig(cluster={"server": "http://k8s.example.com:8080"}),
        'Cluster "prod": The API server address "http://k8s.example.com:8080" must use https:// '
        "(http:// is allowed only to this machine in development).",
        id="not-https",
    ),
    pytest.param(
        kubeconfig(cluster={"server": "https://169.254.169.254"}),
        'Cluster "prod": "169.254.169.254" is a link-local or cloud metadata address and '
        "cannot be used.",
        id="metadata-ipv4",
    ),
    pytest.param(
        kubeconfig(cluster={"server": "https://[fd00:ec2::254]"}),
        'Cluster "prod": "fd00:ec2::254" is a link-local or cloud metadata address and '
        "cannot be used.",
        id="metadata-ipv6",
    ),
]


def stdin(monkeypatch, text: str) -> None:
    """What a shell pipe would give the command on standard input."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))


def refused_by_command(*args, **options) -> str:
    with pytest.raises(CommandError) as caught:
        call_command(*args, stdout=io.StringIO(), stderr=io.StringIO(), **options)
    assert caught.value.returncode == 1
    return str(caught.value)


# --- import_kubeconfig -----------------------------------------------------------------------


@pytest.mark.parametrize(("document", "message"), REFUSALS)
def test_the_form_and_the_command_refuse_a_kubeconfig_with_the_same_message(
    operator_client, settings, tmp_path, document, message
):
    settings.DEBUG = False
    path = tmp_path / "config"
    path.write_bytes(document)

    page = operator_client.post(
        reverse("accounts:new-kubeconfig"),
        {"name": "prod", "upload": SimpleUploadedFile("config", document)},
    )
    said = refused_by_command("import_kubeconfig", str(path), name="prod")

    assert page.status_code == 400 and escape(message) in page.content.decode()
    assert said == message
    assert not CloudAccount.objects.exists() and not Cluster.objects.exists()
    assert not AuditEvent.objects.exists()


def test_hosts_outside_the_allow_list_are_refused_by_form_and_command_alike(
    operator_client, settings, tmp_path
):
    settings.REGCRED_ALLOWED_API_HOSTS = ["*.corp.example"]
    path = tmp_path / "config"
    path.write_bytes(kubeconfig())
    message = (
        'Cluster "prod": The API server "k8s.example.com" is not in the list of hosts this '
        "dashboard may connect to."
    )

    page = operator_client.post(
        reverse("accounts:new-kubeconfig"), {"name": "prod", "kubeconfig": kubeconfig().decode()}
    )

    assert escape(message) in page.content.decode()
    assert refused_by_command("import_kubeconfig", str(path), name="prod") == message


def test_a_kubeconfig_is_imported_and_its_clusters_queued_for_a_check(
    operator, kubeapi, tmp_path, django_capture_on_commit_callbacks
):
    path = kubeapi.write_kubeconfig(tmp_path / "config", context="lab")
    out = io.StringIO()

    with django_capture_on_commit_callbacks() as queued:
        call_command("import_kubeconfig", str(path), name="lab", owner="otto", stdout=out)

    account = CloudAccount.objects.get()
    assert f"Imported account lab (id {account.pk}); clusters: lab." in out.getvalue()
    assert account.owner == operator and account.clusters.get().check_status == "checking"
    assert len(queued) == 1
    assert AuditEvent.objects.get(verb="account.create").actor_name == "otto"


def test_a_kubeconfig_can_come_on_standard_input_with_its_warnings_on_stderr(kubeapi, monkeypatch):
    stdin(monkeypatch, kubeapi.kubeconfig_yaml(insecure=True))
    err = io.StringIO()

    call_command("import_kubeconfig", "-", name="lab", stdout=io.StringIO(), stderr=err)

    assert "warning:" in err.getvalue() and "insecure-skip-tls-verify" in err.getvalue()
    assert Cluster.objects.get().insecure


def test_an_account_name_already_taken_is_refused_like_in_the_form(kubeapi, tmp_path):
    path = kubeapi.write_kubeconfig(tmp_path / "config")
    call_command("import_kubeconfig", str(path), name="lab", stdout=io.StringIO())

    said = refused_by_command("import_kubeconfig", str(path), name="lab")

    assert said == 'A cloud account named "lab" already exists.'
    assert CloudAccount.objects.count() == 1


def test_an_unknown_owner_or_file_is_refused(kubeapi, tmp_path):
    path = kubeapi.write_kubeconfig(tmp_path / "config")

    assert refused_by_command("import_kubeconfig", str(path), name="lab", owner="ghost") == (
        'No user named "ghost".'
    )
    assert refused_by_command("import_kubeconfig", str(tmp_path / "missing"), name="lab") == (
        f"No such file: {tmp_path / 'missing'}"
    )
    assert not CloudAccount.objects.exists()


# --- add_registry_credential -----------------------------------------------------------------


def test_a_credential_is_added_with_its_password_from_standard_input(
    registry_server, monkeypatch, tmp_path
):
    stdin(monkeypatch, registry_server.password + "\n")
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(registry_server.ca_pem)
    out = io.StringIO()

    call_command(
        "add_registry_credential",
        "--name=team",
        f"--server={registry_server.host}",
        f"--username={registry_server.username}",
        "--password-stdin",
        f"--ca-file={ca_file}",
        "--verify",
        stdout=out,
    )

    credential = RegistryCredential.objects.get()
    assert credential.password == registry_server.password
    assert credential.verification == "verified"
    assert f"Verified: The registry {registry_server.host} accepted" in out.getvalue()


def test_verify_exits_non_zero_when_the_registry_refuses(registry_server, monkeypatch, tmp_path):
    stdin(monkeypatch, "wrong-password")
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(registry_server.ca_pem)

    said = refused_by_command(
        "add_registry_credential",
        "--name=team",
        f"--server={registry_server.host}",
        f"--username={registry_server.username}",
        "--password-stdin",
        f"--ca-file={ca_file}",
        "--verify",
    )

    assert said == (
        f"Verification failed: The registry {registry_server.host} refused the username or "
        "password."
    )
    # As in the form, a failed check does not lose what was typed: it is saved as failed.
    assert RegistryCredential.objects.get().verification == "failed"


def test_a_credential_command_refuses_what_the_form_refuses(monkeypatch):
    stdin(monkeypatch, "pw")

    said = refused_by_command(
        "add_registry_credential",
        "--name=team",
        "--server=registry.example.com",
        "--username=ci",
        "--email=not-an-email",
        "--password-stdin",
    )

    assert said == "email: Enter a valid email address."
    assert not RegistryCredential.objects.exists()


def test_a_password_must_be_piped_in(monkeypatch):
    stdin(monkeypatch, "")

    said = refused_by_command(
        "add_registry_credential",
        "--name=team",
        "--server=registry.example.com",
        "--username=ci",
        "--password-stdin",
    )

    assert said == "The password read from standard input is empty."


# --- import_tke_account ----------------------------------------------------------------------


def test_a_tke_account_is_imported_from_the_command_line(
    operator, tke_keys, tkeapi, monkeypatch, django_capture_on_commit_callbacks
):
    stdin(monkeypatch, tke_keys.secret_key + "\n")
    out, err = io.StringIO(), io.StringIO()

    with django_capture_on_commit_callbacks() as queued:
        call_command(
            "import_tke_account",
            "--name=tencent",
            f"--region={tke_keys.region}",
            f"--secret-id={tke_keys.secret_id}",
            "--secret-key-stdin",
            "--owner=otto",
            stdout=out,
            stderr=err,
        )

    account = CloudAccount.objects.get()
    assert (account.owner, account.tke_extranet) == (operator, False)
    assert list(account.clusters.values_list("tke_cluster_id", flat=True)) == ["cls-stage01"]
    assert "clusters: stage." in out.getvalue()
    assert "cls-prod01: The private endpoint of TKE cluster cls-prod01 is not enabled" in (
        err.getvalue()
    )
    assert len(queued) == 1


def test_the_command_imports_only_the_named_clusters_over_the_public_endpoint(
    tke_keys, tkeapi, monkeypatch
):
    stdin(monkeypatch, tke_keys.secret_key)

    call_command(
        "import_tke_account",
        "--name=tencent",
        f"--region={tke_keys.region}",
        f"--secret-id={tke_keys.secret_id}",
        "--secret-key-stdin",
        "--cluster=cls-prod01",
        "--extranet",
        stdout=io.StringIO(),
    )

    assert list(Cluster.objects.values_list("tke_cluster_id", flat=True)) == ["cls-prod01"]
    described = next(r for r in tkeapi.requests if r.action == "DescribeClusters")
    assert described.params["ClusterIds"] == ["cls-prod01"]


def test_a_key_tke_rejects_exits_with_tkes_reason_and_stores_nothing(tke_keys, monkeypatch):
    stdin(monkeypatch, "not-the-key")

    said = refused_by_command(
        "import_tke_account",
        "--name=tencent",
        f"--region={tke_keys.region}",
        f"--secret-id={tke_keys.secret_id}",
        "--secret-key-stdin",
    )

    assert said == (
        "Tencent Cloud refused the SecretKey: it does not belong to this SecretId. Check that "
        "the key pair was copied whole."
    )
    assert not CloudAccount.objects.exists() and not AuditEvent.objects.exists()


def test_an_account_with_no_importable_cluster_exits_non_zero_and_stores_nothing(
    tke_keys, tkeapi, monkeypatch
):
    stdin(monkeypatch, tke_keys.secret_key)

    said = refused_by_command(
        "import_tke_account",
        "--name=tencent",
        f"--region={tke_keys.region}",
        f"--secret-id={tke_keys.secret_id}",
        "--secret-key-stdin",
        "--cluster=cls-prod01",
    )

    assert said.startswith(
        "No cluster could be imported. cls-prod01: The private endpoint of TKE cluster "
        "cls-prod01 is not enabled"
    )
    assert said.endswith("or choose the public endpoint instead.")
    assert not CloudAccount.objects.exists()


def test_a_region_the_form_does_not_offer_is_refused(tke_keys, monkeypatch):
    stdin(monkeypatch, tke_keys.secret_key)

    said = refused_by_command(
        "import_tke_account",
        "--name=tencent",
        "--region=mars-north-1",
        f"--secret-id={tke_keys.secret_id}",
        "--secret-key-stdin",
    )

    assert said == (
        "region: Select a valid choice. mars-north-1 is not one of the available choices."
    )
