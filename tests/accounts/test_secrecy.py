"""Known secrets go through every onboarding flow and come out nowhere.

One module-wide walk through the product (kubeconfig, service account, TKE, registry
credential: added, refused, edited, checked, verified) with known plaintexts, then a look at
every table with raw SQL, every page it rendered, every log record at DEBUG, and every task
message Celery was handed.
"""

from __future__ import annotations

import base64
import json
import logging
from contextlib import ExitStack
from dataclasses import dataclass, field

import pytest
import yaml
from django.db import connection
from django.urls import reverse

from accounts import services
from accounts.models import CloudAccount, RegistryCredential
from clusters.checks import cluster_check
from clusters.models import Cluster

pytestmark = pytest.mark.django_db

KUBECONFIG_TOKEN = "kubeconfig-token-s3cr3t-7f1d"
SA_TOKEN = "serviceaccount-token-s3cr3t-91ab"
NEW_SA_TOKEN = "rotated-sa-token-s3cr3t-55cc"
WRONG_REGISTRY_PASSWORD = "wrong-registry-password-s3cr3t"
LOGGERS = ["", "urllib3", "kubernetes", "tencentcloud_sdk_common", "celery", "kombu", "django"]


@dataclass
class Walk:
    """What the product produced while handling the secrets."""

    secrets: list[str]
    pages: dict[str, str] = field(default_factory=dict)
    logs: list[tuple[str, str]] = field(default_factory=list)

    def log_text(self, *, exclude: str = "") -> str:
        return "\n".join(t for name, t in self.logs if not (exclude and name.startswith(exclude)))

    messages: list = field(default_factory=list)


def forms_of(secret: str) -> list[str]:
    """The secret as typed, and base64-encoded as kubeconfigs and pull Secrets carry it."""
    return [secret, base64.b64encode(secret.encode()).decode()]


@pytest.fixture
def walk(
    operator_client,
    kubeapi,
    tke_keys,
    registry_server,
    celery_messages,
    caplog,
    django_capture_on_commit_callbacks,
) -> Walk:
    client = operator_client
    cert_pem, key_pem = kubeapi.issue_client_cert(cn="otto")
    key_line = key_pem.splitlines()[1]
    document = kubeapi.kubeconfig(
        token=kubeapi.add_token(KUBECONFIG_TOKEN, user="ci"), context="ci"
    )
    with_cert = kubeapi.kubeconfig(cert=cert_pem, key=key_pem, context="admin")
    for section in ("clusters", "users", "contexts"):
        document[section] += with_cert[section]
    kubeconfig_text = yaml.safe_dump(document)
    kubeapi.add_token(SA_TOKEN, user="sa")
    kubeapi.add_token(NEW_SA_TOKEN, user="sa")
    result = Walk(
        secrets=[
            *forms_of(KUBECONFIG_TOKEN),
            *forms_of(SA_TOKEN),
            *forms_of(NEW_SA_TOKEN),
            *forms_of(tke_keys.secret_key),
            *forms_of(registry_server.password),
            *forms_of(WRONG_REGISTRY_PASSWORD),
            key_line,
            base64.b64encode(key_pem.encode()).decode()[40:100],
        ]
    )

    def page(label: str, response) -> None:
        result.pages[label] = response.content.decode()

    with ExitStack() as stack:
        for name in LOGGERS:
            stack.enter_context(caplog.at_level(logging.DEBUG, logger=name))
        run = stack.enter_context(django_capture_on_commit_callbacks(execute=True))

        # Kubeconfig: refused twice (each re-renders the form), then added.
        url = reverse("accounts:new-kubeconfig")
        refused = yaml.safe_load(kubeconfig_text)
        refused["users"][0]["user"]["exec"] = {"command": "aws"}
        page(
            "kubeconfig refused",
            client.post(url, {"name": "lab", "kubeconfig": yaml.safe_dump(refused)}),
        )
        added = client.post(url, {"name": "lab", "kubeconfig": kubeconfig_text})
        page(
            "kubeconfig taken name",
            client.post(url, {"name": "lab", "kubeconfig": kubeconfig_text}),
        )
        page("kubeconfig account", client.get(added.url))

        # Service account: refused (bad CA), added, then its token replaced (and refused once).
        url = reverse("accounts:new-serviceaccount")
        data = {"name": "sa", "server": kubeapi.url, "token": SA_TOKEN, "ca": "not a CA"}
        page("service account refused", client.post(url, data))
        added = client.post(url, data | {"ca": kubeapi.ca_pem})
        sa = CloudAccount.objects.get(name="sa")
        edit = reverse("accounts:edit", args=[sa.pk])
        page(
            "service account edit refused",
            client.post(edit, {"name": "lab", "token": NEW_SA_TOKEN}),
        )
        client.post(edit, {"name": "sa", "token": NEW_SA_TOKEN})
        page("service account edit", client.get(edit))
        page("service account", client.get(added.url))

        # TKE: refused by the form, refused by TKE, then added.
        url = reverse("accounts:new-tke")
        data = {
            "name": "tencent",
            "secret_id": tke_keys.secret_id,
            "secret_key": tke_keys.secret_key,
            "region": tke_keys.region,
            "endpoint": "public",
            "cluster_ids": "",
        }
        page("tke refused", client.post(url, data | {"cluster_ids": "prod"}))
        page(
            "tke wrong key refused",
            client.post(url, data | {"secret_key": WRONG_REGISTRY_PASSWORD}),
        )
        added = client.post(url, data)
        tke = CloudAccount.objects.get(name="tencent")
        page("tke account", client.get(added.url))
        page("tke edit", client.get(reverse("accounts:edit", args=[tke.pk])))

        # Registry credentials: refused, added (right and wrong password), edited.
        url = reverse("accounts:credential-new")
        data = {
            "name": "team",
            "server": registry_server.host,
            "username": registry_server.username,
            "password": registry_server.password,
            "ca_pem": registry_server.ca_pem,
            "verify": "on",
        }
        page("credential refused", client.post(url, data | {"email": "not-an-email"}))
        added = client.post(url, data)
        client.post(url, data | {"name": "wrong", "password": WRONG_REGISTRY_PASSWORD})
        team = RegistryCredential.objects.get(name="team")
        edit = reverse("accounts:credential-edit", args=[team.pk])
        page("credential edit", client.get(edit))
        page("credential edit refused", client.post(edit, data | {"name": "wrong"}))

        # What the worker would do with the queued ids.
        for cluster in Cluster.objects.all():
            cluster_check(cluster_id=cluster.pk)
        for credential in RegistryCredential.objects.all():
            services.credential_verify(credential_id=credential.pk)

        for cluster in Cluster.objects.all():
            page(
                f"cluster {cluster.name}", client.get(reverse("clusters:detail", args=[cluster.pk]))
            )
            page(
                f"cluster {cluster.name} status",
                client.get(reverse("clusters:check-status", args=[cluster.pk])),
            )
        for credential in RegistryCredential.objects.all():
            page(
                f"credential {credential.name}",
                client.get(reverse("accounts:credential-detail", args=[credential.pk])),
            )
        for name in ("accounts:list", "accounts:credential-list", "clusters:list", "audit", "home"):
            page(name, client.get(reverse(name)))

    assert len(run) >= 6, "the walk should have queued checks and verifications"
    # The client key TKE handed out for cls-prod01 is a secret too.
    tke_key_pem = json.loads(Cluster.objects.get(tke_cluster_id="cls-prod01").connection)[
        "client_key_pem"
    ]
    result.secrets += [
        tke_key_pem.splitlines()[1],
        base64.b64encode(tke_key_pem.encode()).decode()[40:100],
    ]
    result.logs = [
        (r.name, f"{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ''}")
        for r in caplog.records
    ]
    result.messages = list(celery_messages)
    # The walk really happened: rows, checks and verdicts a person would see.
    assert {c.check_status for c in Cluster.objects.all()} == {"ok"}
    assert Cluster.objects.count() == 4
    assert dict(RegistryCredential.objects.values_list("name", "verification")) == {
        "team": "verified",
        "wrong": "failed",
    }
    return result


def test_no_table_holds_a_secret_in_plaintext(walk):
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            dump.extend(f"{table}: {row!r}" for row in cursor.fetchall())
    text = "\n".join(dump)

    assert "accounts_cloudaccount" in text and "dashboard_auditevent" in text
    for secret in walk.secrets:
        assert secret not in text


def test_no_page_shows_a_secret(walk):
    assert len(walk.pages) > 20
    for label, html in walk.pages.items():
        for secret in walk.secrets:
            assert secret not in html, f"{label} shows a secret"


def test_refused_forms_do_not_echo_the_secret_back(walk):
    refused = [label for label in walk.pages if "refused" in label or "taken" in label]

    assert len(refused) == 8
    assert "User &quot;ci&quot; runs a command" in walk.pages["kubeconfig refused"]
    assert "Tencent Cloud refused the SecretKey" in walk.pages["tke wrong key refused"]


def test_no_log_line_carries_a_secret(walk):
    logs = walk.log_text(exclude="tencentcloud_sdk_common")

    assert "Bad Request: /accounts/new/kubeconfig/" in logs
    assert "TKE DescribeClusters failed" in logs
    assert '"GET /version HTTP/1.1" 200' in logs
    for secret in walk.secrets:
        assert secret not in logs


def test_the_tke_sdk_logs_no_kubeconfig_even_at_debug(walk):
    logs = walk.log_text()

    # The TKE calls did happen (their failures are logged at WARNING), but the SDK's own
    # DEBUG lines, which carry whole responses, never get through.
    assert "TKE DescribeClusters failed" in logs
    assert "tencentcloud_sdk_common DEBUG" not in logs
    for secret in walk.secrets:
        assert secret not in logs


def test_tasks_are_sent_ids_and_never_secrets(walk):
    names = {message.name for message in walk.messages}

    assert names == {"clusters.tasks.check_cluster", "accounts.tasks.verify_credential"}
    for message in walk.messages:
        args, kwargs, _embed = message.body
        assert kwargs == {} and all(isinstance(arg, int) for arg in args)
        for secret in walk.secrets:
            assert secret not in str(message)


def test_a_crash_while_saving_a_secret_shows_and_logs_none_of_it(operator_client, settings, caplog):
    # A key that is not a Fernet key makes the save itself fail: a real 500, no mocking.
    settings.REGCRED_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    operator_client.raise_request_exception = False
    password = "crash-time-password-s3cr3t"

    with caplog.at_level(logging.DEBUG):
        response = operator_client.post(
            reverse("accounts:credential-new"),
            {"name": "team", "server": "r.example.com", "username": "ci", "password": password},
        )

    assert response.status_code == 500
    assert "Internal Server Error: /credentials/new/" in caplog.text
    assert password not in response.content.decode() and password not in caplog.text
