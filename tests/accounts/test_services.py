"""Onboarding services end to end: fake TKE, fake API server, real registry, real database."""

from __future__ import annotations

import socket

import pytest
import yaml

from accounts import services
from accounts.cloud import TkeError
from accounts.models import CloudAccount, RegistryCredential
from accounts.tasks import verify_credential
from clusters.checks import cluster_check
from clusters.models import Cluster, PullSecretPolicy
from dashboard.models import AuditEvent
from tests.accounts.conftest import tke_style_kubeconfig
from tests.factories import ClusterFactory, PullSecretPolicyFactory, RegistryCredentialFactory

pytestmark = pytest.mark.django_db


def tke_create(keys, *, actor=None, name="tencent", extranet=True, cluster_ids=None, **changes):
    return services.tke_account_create(
        actor=actor,
        name=name,
        secret_id=changes.get("secret_id", keys.secret_id),
        secret_key=changes.get("secret_key", keys.secret_key),
        region=changes.get("region", keys.region),
        cluster_ids=cluster_ids,
        extranet=extranet,
    )


# --- Kubeconfig accounts ---------------------------------------------------------------------


def test_each_context_becomes_a_cluster_checked_once_the_account_is_committed(
    operator, kubeapi, django_capture_on_commit_callbacks
):
    document = kubeapi.kubeconfig(context="blue")
    green = kubeapi.kubeconfig(context="green")
    for section in ("clusters", "users", "contexts"):
        document[section] += green[section]

    with django_capture_on_commit_callbacks() as queued:
        account = services.kubeconfig_account_create(
            actor=operator, name="lab", kubeconfig=yaml.safe_dump(document)
        )

    clusters = list(account.clusters.values_list("name", "context_name", "check_status"))
    assert clusters == [("blue", "blue", "checking"), ("green", "green", "checking")]
    assert len(queued) == 2
    event = AuditEvent.objects.get(verb="account.create")
    assert (event.actor_name, event.target_name, event.detail) == (
        "otto",
        "lab",
        "kind=kubeconfig clusters=2",
    )


def test_the_queued_check_runs_and_records_its_outcome(
    kubeapi, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        account = services.kubeconfig_account_create(
            actor=None, name="lab", kubeconfig=kubeapi.kubeconfig_yaml()
        )

    cluster = account.clusters.get()
    assert (cluster.check_status, cluster.version) == ("ok", "v1.32.0")
    assert cluster.checked_at is not None


def test_cluster_names_stay_unique_across_accounts(kubeapi):
    for name in ("one", "two"):
        services.kubeconfig_account_create(
            actor=None, name=name, kubeconfig=kubeapi.kubeconfig_yaml(context="prod")
        )

    assert list(Cluster.objects.values_list("name", flat=True)) == ["prod", "prod-2"]


def test_a_refused_kubeconfig_stores_nothing(kubeapi):
    document = kubeapi.kubeconfig()
    document["users"][0]["user"]["tokenFile"] = "/var/run/secrets/token"

    with pytest.raises(Exception, match=r"refers to a file on this server \(tokenFile\)"):
        services.kubeconfig_account_create(
            actor=None, name="lab", kubeconfig=yaml.safe_dump(document)
        )

    assert not CloudAccount.objects.exists() and not AuditEvent.objects.exists()


# --- Tencent TKE accounts --------------------------------------------------------------------


def test_a_tke_account_is_discovered_fetched_and_checked_with_its_client_certificate(
    operator, tke_keys, tkeapi, kubeapi, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:
        account, failures = tke_create(tke_keys, actor=operator, extranet=True)
    cluster = account.clusters.get()
    checked = cluster_check(cluster_id=cluster.pk)

    assert (account.tke_secret_id, account.tke_secret_key) == (
        tke_keys.secret_id,
        tke_keys.secret_key,
    )
    assert (cluster.name, cluster.tke_cluster_id, cluster.tke_region) == (
        "prod",
        "cls-prod01",
        "ap-guangzhou",
    )
    assert len(queued) == 1
    assert [f.cluster_id for f in failures] == ["cls-stage01"]
    assert checked.check_status == "ok" and checked.missing_permissions == []
    # The fake verified every signature: the calls below all carried the right key.
    assert [(r.action, r.ok) for r in tkeapi.requests] == [
        ("DescribeClusters", True),
        ("DescribeClusterKubeconfig", True),
        ("DescribeClusterKubeconfig", True),
        ("DescribeClusterEndpoints", True),
    ]
    assert kubeapi.requests_matching(path_prefix="/version", user="100012345678")


def test_a_partly_imported_tke_account_is_audited_as_a_failure(operator, tke_keys):
    tke_create(tke_keys, actor=operator, extranet=True)

    event = AuditEvent.objects.get(verb="account.create")
    assert event.outcome == "failure"
    assert event.detail == "kind=tke region=ap-guangzhou clusters=1 failed=1"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"secret_key": "wrong-key"},
            "Tencent Cloud refused the SecretKey: it does not belong to this SecretId. "
            "Check that the key pair was copied whole.",
        ),
        (
            {"secret_id": "AKIDnobody000000000000000000000000"},
            "Tencent Cloud does not know this SecretId. Check that it was copied whole and that "
            "the key has not been deleted or disabled in the CAM console.",
        ),
    ],
)
def test_keys_tke_rejects_store_nothing(tke_keys, change, message):
    with pytest.raises(TkeError) as caught:
        tke_create(tke_keys, **change)

    assert caught.value.message == message
    assert not CloudAccount.objects.exists() and not AuditEvent.objects.exists()


def test_a_tke_region_without_the_named_cluster_is_refused(tke_keys):
    with pytest.raises(services.ApplicationError) as caught:
        tke_create(tke_keys, region="ap-shanghai", cluster_ids=["cls-prod01"])

    assert caught.value.message == "TKE has no cluster cls-prod01 in region ap-shanghai."
    assert not CloudAccount.objects.exists()


def test_keys_that_see_no_cluster_in_the_region_store_nothing(tke_keys):
    with pytest.raises(services.ApplicationError) as caught:
        tke_create(tke_keys, region="ap-shanghai")

    assert caught.value.message == "TKE lists no cluster for these keys in region ap-shanghai."
    assert not CloudAccount.objects.exists()


def test_an_endpoint_whose_name_does_not_resolve_is_dialled_by_address(tkeapi, kubeapi):
    # The API server certificate names kubernetes.default.svc, which no resolver here knows:
    # TKE's <cluster>.ccs.tencent-cloud.com names are often like that.
    name = "kubernetes.default.svc"
    try:
        socket.getaddrinfo(name, None)
    except OSError:
        pass
    else:
        pytest.skip(f"{name} resolves on this machine")
    document = yaml.safe_load(tke_style_kubeconfig(kubeapi, "cls-dns01", cert=True))
    document["clusters"][0]["cluster"]["server"] = f"https://{name}:{kubeapi.port}"
    tkeapi.add_account("AKIDdns0000000000000000000000000000", "dns-key", regions=("ap-guangzhou",))
    tkeapi.add_cluster(
        "AKIDdns0000000000000000000000000000",
        "ap-guangzhou",
        "cls-dns01",
        kubeconfig_public=yaml.safe_dump(document),
        public_address=f"127.0.0.1:{kubeapi.port}",
    )

    account, failures = services.tke_account_create(
        actor=None,
        name="dns",
        secret_id="AKIDdns0000000000000000000000000000",
        secret_key="dns-key",
        region="ap-guangzhou",
        cluster_ids=None,
        extranet=True,
    )
    cluster = account.clusters.get()

    assert failures == []
    assert cluster.server == f"https://127.0.0.1:{kubeapi.port}"
    assert cluster_check(cluster_id=cluster.pk).check_status == "ok"


def test_onboarding_tke_without_a_credential_creates_no_policy(operator, tke_keys):
    tke_create(tke_keys, actor=operator)

    assert not PullSecretPolicy.objects.exists()


def test_the_oldest_credential_is_used_when_none_is_the_default(operator, tke_keys):
    oldest = RegistryCredentialFactory(owner=operator)
    RegistryCredentialFactory(owner=operator)

    account, _failures = tke_create(tke_keys, actor=operator)

    assert PullSecretPolicy.objects.get().credential == oldest
    assert PullSecretPolicy.objects.get().account == account


# --- Changing and deleting accounts ----------------------------------------------------------


def test_renaming_to_a_taken_name_is_refused(kubeapi):
    services.kubeconfig_account_create(actor=None, name="a", kubeconfig=kubeapi.kubeconfig_yaml())
    b = services.kubeconfig_account_create(
        actor=None, name="b", kubeconfig=kubeapi.kubeconfig_yaml()
    )

    with pytest.raises(services.ApplicationError, match='named "a" already exists'):
        services.account_update(actor=None, account=b, name="a")

    b.refresh_from_db()
    assert b.name == "b"


def test_a_new_tke_secret_key_replaces_the_stored_one(tke_keys):
    account, _failures = tke_create(tke_keys)

    services.account_update(actor=None, account=account, name="tencent", secret_key="rotated")
    services.account_update(actor=None, account=account, name="tencent", secret_key="")

    account.refresh_from_db()
    assert account.tke_secret_key == "rotated"
    assert list(
        AuditEvent.objects.filter(verb="account.update").values_list("detail", flat=True)
    ) == ["changed: nothing", "changed: secret key"]


def test_deleting_an_account_forgets_its_clusters_and_policies_only(kubeapi):
    cluster = ClusterFactory()
    policy = PullSecretPolicyFactory(cluster=cluster)

    services.account_delete(actor=None, account=cluster.account)

    assert not Cluster.objects.exists() and not PullSecretPolicy.objects.exists()
    assert RegistryCredential.objects.filter(pk=policy.credential_id).exists()
    assert AuditEvent.objects.get(verb="account.delete").detail == "clusters forgotten=1"


# --- Registry credentials --------------------------------------------------------------------


def credential_for(registry, **changes) -> RegistryCredential:
    fields = {
        "server": registry.host,
        "username": registry.username,
        "password": registry.password,
        "ca_pem": registry.ca_pem,
    }
    return RegistryCredentialFactory(**(fields | changes))


def test_a_credential_is_verified_against_the_real_registry(registry_server):
    credential = credential_for(registry_server)

    verified = services.credential_verify(credential_id=credential.pk)

    assert verified.verification == "verified"
    assert verified.verification_message == (
        f"The registry {registry_server.host} accepted the username and password."
    )
    event = AuditEvent.objects.get(verb="credential.verify")
    assert (event.actor_name, event.outcome) == ("system", "success")


def test_a_wrong_password_is_recorded_as_failed_with_the_reason(registry_server):
    credential = credential_for(registry_server, password="not-" + registry_server.password)

    failed = services.credential_verify(credential_id=credential.pk)

    assert failed.verification == "failed"
    assert failed.verification_message == (
        f"The registry {registry_server.host} refused the username or password."
    )
    assert AuditEvent.objects.get(verb="credential.verify").outcome == "failure"


def test_a_registry_asking_for_a_bearer_token_is_verified_through_its_token_service(
    bearer_registry,
):
    credential = credential_for(bearer_registry)

    verified = services.credential_verify(credential_id=credential.pk)

    assert verified.verification == "verified"
    assert "token login" in verified.verification_message


def test_the_verify_task_takes_an_id_and_records_the_outcome(registry_server, eager_celery):
    credential = credential_for(registry_server)

    verify_credential.delay(credential.pk)

    credential.refresh_from_db()
    assert credential.verification == "verified" and credential.verified_at is not None


def test_verifying_a_credential_deleted_meanwhile_does_nothing():
    assert services.credential_verify(credential_id=123456) is None
    assert not AuditEvent.objects.exists()


def test_a_credential_name_already_taken_is_refused():
    RegistryCredentialFactory(name="team")

    with pytest.raises(services.ApplicationError) as caught:
        services.credential_create(
            actor=None, name="team", server="r.example.com", username="u", password="p"
        )

    assert caught.value.message == 'A registry credential named "team" already exists.'


@pytest.mark.parametrize(
    ("change", "resets"),
    [
        ({"server": "other.example.com"}, True),
        ({"username": "someone-else"}, True),
        ({"password": "new-password"}, True),
        ({"ca_pem": ""}, True),
        ({"email": "new@example.com"}, False),
        ({"name": "renamed"}, False),
    ],
)
def test_changing_what_the_login_depends_on_forgets_the_last_verification(
    registry_server, change, resets
):
    credential = credential_for(registry_server, email="ci@example.com")
    services.credential_verify(credential_id=credential.pk)
    credential.refresh_from_db()
    fields = {
        "name": credential.name,
        "server": credential.server,
        "username": credential.username,
        "email": credential.email,
        "ca_pem": credential.ca_pem,
    }

    services.credential_update(actor=None, credential=credential, verify=False, **(fields | change))

    credential.refresh_from_db()
    assert credential.verification == ("unknown" if resets else "verified")


def test_saving_a_credential_queues_its_verification_on_commit(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as queued:
        credential = services.credential_create(
            actor=None, name="team", server="r.example.com", username="u", password="p"
        )

    assert len(queued) == 1
    assert RegistryCredential.objects.get(pk=credential.pk).verification == "checking"


def test_a_credential_in_use_is_not_deleted():
    policy = PullSecretPolicyFactory(name="prod-pull")

    with pytest.raises(services.ApplicationError) as caught:
        services.credential_delete(actor=None, credential=policy.credential)

    assert caught.value.message == (
        "Policies still use this credential: prod-pull. Delete or change them first."
    )
    assert RegistryCredential.objects.filter(pk=policy.credential_id).exists()
