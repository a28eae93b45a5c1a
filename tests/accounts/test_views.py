"""Onboarding in the browser: the pages, what they refuse, who may use them."""

from __future__ import annotations

import json

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from accounts import services
from accounts.kubeconfig import service_account_context
from accounts.models import CloudAccount, RegistryCredential
from clusters.checks import cluster_check
from clusters.models import Cluster, PullSecretPolicy
from dashboard.models import AuditEvent
from tests.factories import (
    ClusterFactory,
    PullSecretPolicyFactory,
    RegistryCredentialFactory,
)

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    return response.content.decode()


def follow_detail(client, response):
    assert response.status_code == 302, page_text(response)[:2000]
    return client.get(response.url)


# --- Who may change things -------------------------------------------------------------------


@pytest.fixture
def targets():
    """One of everything a mutating view acts on."""
    cluster = ClusterFactory(name="prod")
    return {
        "account": cluster.account,
        "cluster": cluster,
        "credential": RegistryCredentialFactory(name="team"),
    }


# URL name, what it acts on, and a POST that an operator would have made successfully.
MUTATING_VIEWS = [
    ("accounts:new-kubeconfig", None, {"name": "new", "kubeconfig": "apiVersion: v1"}),
    (
        "accounts:new-serviceaccount",
        None,
        {"name": "new", "server": "https://k8s.example.com", "token": "t", "ca": "x"},
    ),
    ("accounts:new-tke", None, {"name": "new", "secret_id": "AKID", "secret_key": "k"}),
    ("accounts:edit", "account", {"name": "renamed"}),
    ("accounts:delete", "account", {}),
    (
        "accounts:credential-new",
        None,
        {"name": "new", "server": "r.example.com", "username": "u", "password": "p"},
    ),
    (
        "accounts:credential-edit",
        "credential",
        {"name": "renamed", "server": "r.example.com", "username": "u"},
    ),
    ("accounts:credential-delete", "credential", {}),
    ("accounts:credential-verify", "credential", {}),
    ("clusters:check", "cluster", {}),
    ("clusters:rename", "cluster", {"name": "renamed"}),
]
FORM_PAGES = [
    ("accounts:new", None),
    ("accounts:new-kubeconfig", None),
    ("accounts:new-serviceaccount", None),
    ("accounts:new-tke", None),
    ("accounts:edit", "account"),
    ("accounts:delete", "account"),
    ("accounts:credential-new", None),
    ("accounts:credential-edit", "credential"),
    ("accounts:credential-delete", "credential"),
]


def url_for(name: str, target: str | None, targets: dict) -> str:
    return reverse(name, args=[targets[target].pk] if target else [])


def snapshot() -> tuple:
    """Everything a mutating view could change, to prove a refused request changed nothing."""
    return (
        list(CloudAccount.objects.values_list("pk", "name")),
        list(Cluster.objects.values_list("pk", "name", "check_status")),
        list(RegistryCredential.objects.values_list("pk", "name", "verification")),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize(("name", "target", "data"), MUTATING_VIEWS)
def test_a_viewer_can_change_nothing(
    viewer_client, targets, name, target, data, django_capture_on_commit_callbacks
):
    before = snapshot()

    with django_capture_on_commit_callbacks() as queued:
        response = viewer_client.post(url_for(name, target, targets), data)

    assert response.status_code == 403
    assert snapshot() == before and queued == []


@pytest.mark.parametrize(("name", "target", "data"), MUTATING_VIEWS)
def test_someone_without_a_role_can_change_nothing(client, nobody, targets, name, target, data):
    client.force_login(nobody)
    before = snapshot()

    response = client.post(url_for(name, target, targets), data)

    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(("name", "target", "data"), MUTATING_VIEWS)
def test_a_signed_out_visitor_is_sent_to_log_in(client, targets, name, target, data):
    before = snapshot()

    response = client.post(url_for(name, target, targets), data)

    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert snapshot() == before


@pytest.mark.parametrize(("name", "target"), FORM_PAGES)
def test_a_viewer_is_not_shown_the_forms(viewer_client, targets, name, target):
    assert viewer_client.get(url_for(name, target, targets)).status_code == 403


@pytest.mark.parametrize(("name", "target"), FORM_PAGES)
def test_operators_and_admins_can_open_every_form(
    operator, admin_user, client, targets, name, target
):
    for person in (operator, admin_user):
        client.force_login(person)
        assert client.get(url_for(name, target, targets)).status_code == 200


def test_a_viewer_sees_names_and_status_but_no_buttons(viewer_client, targets):
    account, credential = targets["account"], targets["credential"]

    account_page = page_text(viewer_client.get(reverse("accounts:detail", args=[account.pk])))
    credential_page = page_text(
        viewer_client.get(reverse("accounts:credential-detail", args=[credential.pk]))
    )

    assert account.name in account_page and "prod" in account_page
    assert reverse("accounts:edit", args=[account.pk]) not in account_page
    assert reverse("accounts:delete", args=[account.pk]) not in account_page
    assert "team" in credential_page and "Not checked" in credential_page
    assert reverse("accounts:credential-verify", args=[credential.pk]) not in credential_page
    assert reverse("accounts:credential-edit", args=[credential.pk]) not in credential_page


# --- Kubeconfig accounts ---------------------------------------------------------------------


def test_pasting_a_kubeconfig_adds_a_checked_cluster_per_context(
    operator_client, kubeapi, eager_celery, django_capture_on_commit_callbacks
):
    cert, key = kubeapi.issue_client_cert(cn="otto")
    document = kubeapi.kubeconfig(token=kubeapi.add_token("ci-token", user="ci"), context="ci")
    with_cert = kubeapi.kubeconfig(cert=cert, key=key, context="admin")
    for section in ("clusters", "users", "contexts"):
        document[section] += with_cert[section]

    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = operator_client.post(
            reverse("accounts:new-kubeconfig"),
            {"name": "lab", "kubeconfig": yaml.safe_dump(document)},
        )
    html = page_text(follow_detail(operator_client, response))

    assert len(queued) == 2
    assert "Account added; checking its clusters now." in html
    assert [(c.name, c.check_status) for c in Cluster.objects.all()] == [
        ("admin", "ok"),
        ("ci", "ok"),
    ]
    assert html.count("Reachable") == 2 and "v1.32.0" in html
    assert kubeapi.requests_matching(path_prefix="/version", user="otto")
    assert kubeapi.requests_matching(path_prefix="/version", user="ci")


def test_uploading_a_json_kubeconfig_works_like_pasting_it(operator_client, kubeapi):
    upload = SimpleUploadedFile("config.json", json.dumps(kubeapi.kubeconfig()).encode())

    response = operator_client.post(
        reverse("accounts:new-kubeconfig"), {"name": "lab", "upload": upload}
    )

    assert response.status_code == 302
    assert CloudAccount.objects.get().clusters.get().server == kubeapi.url


def test_a_refused_kubeconfig_is_explained_at_the_field_and_nothing_is_stored(operator_client):
    document = {
        "clusters": [{"name": "eks", "cluster": {"server": "https://eks.example.com"}}],
        "users": [{"name": "aws", "user": {"exec": {"command": "aws"}}}],
        "contexts": [{"name": "eks", "context": {"cluster": "eks", "user": "aws"}}],
    }

    response = operator_client.post(
        reverse("accounts:new-kubeconfig"), {"name": "eks", "kubeconfig": yaml.safe_dump(document)}
    )

    assert response.status_code == 400
    html = page_text(response)
    message = 'User "aws" runs a command (exec plugin); only inline credentials are accepted.'
    field = html[html.index('id="id_kubeconfig"') : html.index('id="id_upload"')]
    assert escape(message) in field
    assert not CloudAccount.objects.exists() and not Cluster.objects.exists()


@pytest.mark.parametrize("size", [300 * 1024, 2 * 1024 * 1024])
def test_an_upload_too_large_says_so(operator_client, size):
    upload = SimpleUploadedFile("config", b"# padding\n" * (size // 10))

    response = operator_client.post(
        reverse("accounts:new-kubeconfig"), {"name": "lab", "upload": upload}
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {"upload": ["The kubeconfig is larger than 256 KiB."]}


def test_pasting_and_uploading_at_once_is_refused(operator_client, kubeapi):
    text = kubeapi.kubeconfig_yaml()

    response = operator_client.post(
        reverse("accounts:new-kubeconfig"),
        {"name": "lab", "kubeconfig": text, "upload": SimpleUploadedFile("config", text.encode())},
    )

    assert "Paste the kubeconfig or upload it, not both." in page_text(response)
    assert not CloudAccount.objects.exists()


def test_an_empty_form_asks_for_a_kubeconfig(operator_client):
    response = operator_client.post(reverse("accounts:new-kubeconfig"), {"name": "lab"})

    assert "Paste a kubeconfig or choose a file to upload." in page_text(response)


def test_neither_paste_nor_upload_is_marked_optional(operator_client):
    html = page_text(operator_client.get(reverse("accounts:new-kubeconfig")))

    assert "paste it or upload the file, one of the two" in html
    assert "(optional)" not in html


def test_skipping_tls_verification_is_accepted_with_a_visible_warning(operator_client, kubeapi):
    response = operator_client.post(
        reverse("accounts:new-kubeconfig"),
        {"name": "lab", "kubeconfig": kubeapi.kubeconfig_yaml(insecure=True)},
    )
    html = page_text(follow_detail(operator_client, response))
    cluster = Cluster.objects.get()

    assert "insecure-skip-tls-verify" in html and "msg-warning" in html
    assert cluster.insecure
    assert cluster_check(cluster_id=cluster.pk).check_status == "ok"
    cluster_page = page_text(operator_client.get(reverse("clusters:detail", args=[cluster.pk])))
    assert "TLS not verified" in cluster_page


def test_an_account_name_already_taken_is_refused_at_the_name_field(operator_client, kubeapi):
    url = reverse("accounts:new-kubeconfig")
    operator_client.post(url, {"name": "lab", "kubeconfig": kubeapi.kubeconfig_yaml()})

    response = operator_client.post(url, {"name": "lab", "kubeconfig": kubeapi.kubeconfig_yaml()})

    assert response.status_code == 400
    assert escape('A cloud account named "lab" already exists.') in page_text(response)
    assert CloudAccount.objects.count() == 1 and Cluster.objects.count() == 1


# --- Service-account accounts ----------------------------------------------------------------


def test_the_service_account_page_gives_the_yaml_and_commands_to_run_first(operator_client):
    html = page_text(operator_client.get(reverse("accounts:new-serviceaccount")))

    for expected in (
        "kind: ServiceAccount",
        "kind: ClusterRole",
        "kind: ClusterRoleBinding",
        "kubernetes.io/service-account-token",
        "- create",
        "- patch",
        "kubectl -n kube-system get secret regcred-dashboard-token",
        escape("jsonpath='{.data.token}'"),
    ):
        assert expected in html, expected


@pytest.mark.parametrize("ca_format", ["pem", "base64"])
def test_a_service_account_is_added_and_its_cluster_checked(operator_client, kubeapi, ca_format):
    token = kubeapi.add_token("sa-token-0123", user="system:serviceaccount:kube-system:regcred")

    response = operator_client.post(
        reverse("accounts:new-serviceaccount"),
        {
            "name": "lab-sa",
            "server": kubeapi.url,
            "token": token,
            "ca": kubeapi.ca_pem if ca_format == "pem" else kubeapi.ca_data,
        },
    )
    assert response.status_code == 302
    cluster = Cluster.objects.get()
    checked = cluster_check(cluster_id=cluster.pk)
    html = page_text(operator_client.get(response.url))

    assert (checked.name, checked.check_status, checked.missing_permissions) == ("lab-sa", "ok", [])
    assert "Reachable" in html and kubeapi.url in html
    assert kubeapi.requests_matching(user="system:serviceaccount:kube-system:regcred")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"server": "http://k8s.example.com"},
            'The API server address "http://k8s.example.com" must use https:// '
            "(http:// is allowed only to this machine in development).",
        ),
        (
            {"server": "https://169.254.169.254"},
            '"169.254.169.254" is a link-local or cloud metadata address and cannot be used.',
        ),
        (
            {"server": "https://[fd00:ec2::254]"},
            '"fd00:ec2::254" is a link-local or cloud metadata address and cannot be used.',
        ),
        (
            {"ca": "not a certificate"},
            "The CA certificate is not a PEM certificate, base64 of one, or base64 DER.",
        ),
        (
            {"token": "two words"},
            "The service-account token contains spaces or control characters.",
        ),
    ],
)
def test_the_service_account_form_refuses_what_a_kubeconfig_may_not_contain(
    operator_client, kubeapi, change, message
):
    data = {"name": "sa", "server": "https://k8s.example.com", "token": "t0k", "ca": kubeapi.ca_pem}

    response = operator_client.post(reverse("accounts:new-serviceaccount"), data | change)

    assert response.status_code == 400
    assert escape(message) in page_text(response)
    # Next to the field to fix, in the form the browser scrolls to.
    [field] = change
    assert response.context["form"].errors == {field: [message]}
    assert 'action="#paste"' in page_text(response)
    assert not CloudAccount.objects.exists()


# --- Tencent TKE accounts --------------------------------------------------------------------


def tke_post(keys, **changes) -> dict:
    return {
        "name": "tencent",
        "secret_id": keys.secret_id,
        "secret_key": keys.secret_key,
        "region": keys.region,
        "endpoint": "public",
        "cluster_ids": "",
    } | changes


def test_a_tke_account_imports_its_clusters_and_says_which_endpoint_is_missing(
    operator_client, tke_keys, kubeapi, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(reverse("accounts:new-tke"), tke_post(tke_keys))
    html = page_text(follow_detail(operator_client, response))
    account = CloudAccount.objects.get()

    assert (account.kind, account.tke_region, account.tke_extranet) == ("tke", "ap-guangzhou", True)
    assert [(c.name, c.tke_cluster_id, c.check_status) for c in account.clusters.all()] == [
        ("prod", "cls-prod01", "ok")
    ]
    # The cluster without a public endpoint is explained, with the way out.
    assert "cls-stage01: The public endpoint of TKE cluster cls-stage01 is not enabled" in html
    assert "choose the private endpoint instead" in html
    assert "Reachable" in html and "cls-prod01" in html
    assert kubeapi.requests_matching(path_prefix="/version", user="100012345678")


def test_the_private_endpoint_is_used_when_chosen(operator_client, tke_keys, tkeapi):
    response = operator_client.post(
        reverse("accounts:new-tke"), tke_post(tke_keys, endpoint="private")
    )

    assert response.status_code == 302
    assert list(Cluster.objects.values_list("tke_cluster_id", flat=True)) == ["cls-stage01"]
    asked = [r.params for r in tkeapi.requests if r.action == "DescribeClusterKubeconfig"]
    assert {str(p.get("IsExtranet")).lower() for p in asked} == {"false"}


def test_when_no_cluster_can_be_imported_nothing_is_stored_and_the_other_endpoint_works(
    operator_client, tke_keys
):
    url = reverse("accounts:new-tke")

    refused = operator_client.post(url, tke_post(tke_keys, cluster_ids="cls-stage01"))
    assert refused.status_code == 400
    html = page_text(refused)
    assert "No cluster could be imported. cls-stage01: The public endpoint" in html
    assert "choose the private endpoint instead" in html
    assert not CloudAccount.objects.exists()

    accepted = operator_client.post(
        url, tke_post(tke_keys, cluster_ids="cls-stage01", endpoint="private")
    )
    assert accepted.status_code == 302
    assert list(Cluster.objects.values_list("tke_cluster_id", flat=True)) == ["cls-stage01"]


def test_a_wrong_secret_key_is_refused_with_tencents_reason_and_nothing_is_stored(
    operator_client, tke_keys
):
    response = operator_client.post(
        reverse("accounts:new-tke"), tke_post(tke_keys, secret_key="not-the-key")
    )

    assert response.status_code == 400
    assert "Tencent Cloud refused the SecretKey: it does not belong to this SecretId." in page_text(
        response
    )
    assert not CloudAccount.objects.exists() and not Cluster.objects.exists()


def test_only_the_named_clusters_are_imported(operator_client, tke_keys):
    operator_client.post(
        reverse("accounts:new-tke"),
        tke_post(tke_keys, endpoint="private", cluster_ids="cls-stage01"),
    )

    assert list(Cluster.objects.values_list("tke_cluster_id", flat=True)) == ["cls-stage01"]


def test_cluster_ids_that_are_not_tke_ids_are_refused(operator_client, tke_keys, tkeapi):
    response = operator_client.post(
        reverse("accounts:new-tke"), tke_post(tke_keys, cluster_ids="prod, cls-prod01")
    )

    assert "TKE cluster IDs look like cls-abc123; not: prod" in page_text(response)
    assert tkeapi.requests == []


def test_an_unknown_cluster_id_is_refused(operator_client, tke_keys):
    response = operator_client.post(
        reverse("accounts:new-tke"), tke_post(tke_keys, cluster_ids="cls-nothere")
    )

    assert response.status_code == 400
    assert "TKE has no cluster cls-nothere in region ap-guangzhou." in page_text(response)
    assert not CloudAccount.objects.exists()


def test_the_tke_page_names_the_pull_secret_it_will_create(operator_client, operator):
    url = reverse("accounts:new-tke")

    without = page_text(operator_client.get(url))
    RegistryCredentialFactory(name="coding", owner=operator, is_default=True)
    with_credential = page_text(operator_client.get(url))

    secret = f"<code>coding-registry-cred-{operator.pk}</code>"
    assert "You have no registry credential yet, so no pull Secret" in without
    assert secret in without and reverse("accounts:credential-new") in without
    assert "your registry credential <strong>coding</strong>" in with_credential
    assert secret in with_credential


def test_a_tke_account_gets_the_seed_products_pull_secret_for_the_default_credential(
    operator_client, operator, tke_keys
):
    RegistryCredentialFactory(name="older", owner=operator)
    default = RegistryCredentialFactory(name="coding", owner=operator, is_default=True)

    operator_client.post(reverse("accounts:new-tke"), tke_post(tke_keys))

    policy = PullSecretPolicy.objects.get()
    assert (policy.credential, policy.account) == (default, CloudAccount.objects.get())
    assert policy.secret_name == f"coding-registry-cred-{operator.pk}"


# --- Watching a check ------------------------------------------------------------------------


def test_the_account_list_says_a_cluster_is_being_checked_rather_than_unreachable(
    viewer_client,
):
    ClusterFactory(account__name="lab", check_status=Cluster.Check.CHECKING)

    html = page_text(viewer_client.get(reverse("accounts:list")))

    assert "0 of 1 reachable" in html and "1 being checked" in html


def test_the_account_page_polls_while_a_cluster_is_being_checked(viewer_client):
    cluster = ClusterFactory(check_status=Cluster.Check.CHECKING)

    html = page_text(viewer_client.get(reverse("accounts:detail", args=[cluster.account.pk])))

    assert f'hx-get="{reverse("clusters:check-status", args=[cluster.pk])}"' in html
    assert 'hx-trigger="every 1s"' in html and "contacting the API server" in html


def test_the_check_status_polls_until_the_check_has_an_outcome(viewer_client, kubeapi):
    account = services.kubeconfig_account_create(
        actor=None, name="lab", kubeconfig=kubeapi.kubeconfig_yaml()
    )
    cluster = account.clusters.get()
    url = reverse("clusters:check-status", args=[cluster.pk])

    while_checking = viewer_client.get(url, HTTP_HX_REQUEST="true")
    cluster_check(cluster_id=cluster.pk)
    done = viewer_client.get(url, HTTP_HX_REQUEST="true")

    assert while_checking.status_code == 200 and "every 1s" in page_text(while_checking)
    assert done.status_code == 286
    assert "Reachable" in page_text(done) and "every 1s" not in page_text(done)
    assert 'class="mainnav"' not in page_text(done)


def test_an_operator_can_check_a_cluster_again(
    operator_client, kubeapi, eager_celery, django_capture_on_commit_callbacks
):
    account = services.kubeconfig_account_create(
        actor=None, name="lab", kubeconfig=kubeapi.kubeconfig_yaml()
    )
    cluster = account.clusters.get()
    kubeapi.clear_requests()

    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = operator_client.post(
            reverse("clusters:check", args=[cluster.pk]), HTTP_HX_REQUEST="true"
        )

    assert len(queued) == 1
    assert "every 1s" in page_text(response) and 'class="mainnav"' not in page_text(response)
    cluster.refresh_from_db()
    assert cluster.check_status == "ok"
    assert kubeapi.request_counts()[("create", "selfsubjectaccessreviews")] == 16


# --- Editing and deleting accounts -----------------------------------------------------------


@pytest.fixture
def sa_account(kubeapi):
    token = kubeapi.add_token("first-token-000", user="first")
    form_context = service_account_context(
        server=kubeapi.url, token=token, ca=kubeapi.ca_pem, name="sa"
    )
    return services.serviceaccount_account_create(actor=None, name="sa", context=form_context)


def test_editing_an_account_without_a_new_secret_keeps_the_old_one(
    operator_client, sa_account, kubeapi
):
    response = operator_client.post(
        reverse("accounts:edit", args=[sa_account.pk]), {"name": "renamed", "token": ""}
    )
    sa_account.refresh_from_db()
    cluster = sa_account.clusters.get()

    assert response.status_code == 302 and sa_account.name == "renamed"
    assert sa_account.sa_token == "first-token-000"
    assert cluster_check(cluster_id=cluster.pk).check_status == "ok"
    assert kubeapi.requests_matching(user="first")


def test_a_new_token_replaces_the_old_one_in_every_cluster_and_checks_again(
    operator_client, sa_account, kubeapi, eager_celery, django_capture_on_commit_callbacks
):
    kubeapi.add_token("second-token-000", user="second")

    with django_capture_on_commit_callbacks(execute=True) as queued:
        operator_client.post(
            reverse("accounts:edit", args=[sa_account.pk]),
            {"name": "sa", "token": "second-token-000"},
        )

    assert len(queued) == 1
    assert sa_account.clusters.get().check_status == "ok"
    assert kubeapi.requests_matching(user="second") and not kubeapi.requests_matching(user="first")
    event = AuditEvent.objects.filter(verb="account.update").get()
    assert (event.actor_name, event.detail) == ("otto", "changed: token")


def test_a_new_token_with_spaces_is_refused(operator_client, sa_account):
    response = operator_client.post(
        reverse("accounts:edit", args=[sa_account.pk]), {"name": "sa", "token": "two words"}
    )

    assert response.status_code == 400
    assert "The service-account token contains spaces or control characters." in page_text(response)
    sa_account.refresh_from_db()
    assert sa_account.sa_token == "first-token-000"


def test_deleting_an_account_asks_first_and_says_what_stays_in_the_clusters(
    operator_client, sa_account, kubeapi
):
    url = reverse("accounts:delete", args=[sa_account.pk])
    kubeapi.clear_requests()

    question = page_text(operator_client.get(url))
    response = operator_client.post(url)

    assert "Delete the account sa?" in question and "1 cluster and its scan history" in question
    assert "It does not touch the clusters:" in question
    assert response.status_code == 302 and response.url == reverse("accounts:list")
    assert not CloudAccount.objects.exists() and not Cluster.objects.exists()
    assert kubeapi.requests == []
    event = AuditEvent.objects.get(verb="account.delete")
    assert (event.actor_name, event.target_name) == ("otto", "sa")


# --- Registry credentials --------------------------------------------------------------------


def credential_post(registry, **changes) -> dict:
    return {
        "name": "team",
        "server": registry.host,
        "username": registry.username,
        "password": registry.password,
        "email": "ci@example.com",
        "ca_pem": registry.ca_pem,
        "verify": "on",
    } | changes


def test_adding_a_credential_verifies_it_against_the_registry(
    operator_client, registry_server, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = operator_client.post(
            reverse("accounts:credential-new"), credential_post(registry_server)
        )
    html = page_text(follow_detail(operator_client, response))

    assert len(queued) == 1
    assert "Verified" in html
    assert f"The registry {registry_server.host} accepted the username and password." in html
    assert "certificate checked against the private CA given" in html
    credential = RegistryCredential.objects.get()
    assert credential.verified_at is not None and credential.ca_pem.startswith("-----BEGIN")


def test_a_refused_login_is_still_saved_and_shown_as_failed_with_the_reason(
    operator_client, registry_server, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            reverse("accounts:credential-new"),
            credential_post(registry_server, password="wrong-password"),
        )
    html = page_text(follow_detail(operator_client, response))

    assert RegistryCredential.objects.get().verification == "failed"
    assert "Failed" in html
    assert f"The registry {registry_server.host} refused the username or password." in html


def test_a_registry_with_a_private_ca_is_not_trusted_without_that_ca(
    operator_client, registry_server, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(
            reverse("accounts:credential-new"), credential_post(registry_server, ca_pem="")
        )

    credential = RegistryCredential.objects.get()
    assert credential.verification == "failed"
    assert credential.verification_message.startswith(
        f"The TLS connection to {registry_server.host} failed: certificate not trusted"
    )


def test_a_ca_that_is_not_a_certificate_is_refused(operator_client, registry_server):
    response = operator_client.post(
        reverse("accounts:credential-new"),
        credential_post(registry_server, ca_pem="-----BEGIN CERTIFICATE-----\nnope"),
    )

    assert response.status_code == 400
    assert "The CA certificate is not a PEM certificate" in page_text(response)
    assert not RegistryCredential.objects.exists()


def test_a_credential_needs_a_password_and_a_host_name(operator_client):
    response = operator_client.post(
        reverse("accounts:credential-new"),
        {"name": "team", "server": "", "username": "ci", "password": ""},
    )

    assert response.context["form"].errors == {
        "server": ["This field is required."],
        "password": ["Enter the password or access token."],
    }
    html = page_text(response)
    label = html[html.index('for="id_password"') : html.index('id="id_password"')]
    assert "(optional)" not in label
    assert not RegistryCredential.objects.exists()


def test_editing_a_credential_without_a_password_keeps_the_stored_one(
    operator_client, registry_server, eager_celery, django_capture_on_commit_callbacks
):
    credential = RegistryCredentialFactory(
        name="team",
        server=registry_server.host,
        username=registry_server.username,
        password=registry_server.password,
        ca_pem=registry_server.ca_pem,
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            reverse("accounts:credential-edit", args=[credential.pk]),
            credential_post(registry_server, name="team-renamed", password=""),
        )

    credential.refresh_from_db()
    assert response.status_code == 302
    assert (credential.name, credential.password) == ("team-renamed", registry_server.password)
    assert credential.verification == "verified"


def test_one_default_credential_per_person(operator_client, operator, registry_server):
    first = RegistryCredentialFactory(owner=operator, is_default=True)

    operator_client.post(
        reverse("accounts:credential-new"),
        credential_post(registry_server, is_default="on", verify=""),
    )

    first.refresh_from_db()
    assert not first.is_default
    assert RegistryCredential.objects.get(name="team").is_default


def test_checking_a_credential_again_polls_until_the_registry_answered(
    operator_client, registry_server
):
    credential = RegistryCredentialFactory(
        server=registry_server.host,
        username=registry_server.username,
        password=registry_server.password,
        ca_pem=registry_server.ca_pem,
    )
    status_url = reverse("accounts:credential-verification", args=[credential.pk])

    started = operator_client.post(
        reverse("accounts:credential-verify", args=[credential.pk]), HTTP_HX_REQUEST="true"
    )
    while_checking = operator_client.get(status_url, HTTP_HX_REQUEST="true")
    services.credential_verify(credential_id=credential.pk)
    done = operator_client.get(status_url, HTTP_HX_REQUEST="true")

    assert "Checking" in page_text(started) and "every 1s" in page_text(started)
    assert while_checking.status_code == 200
    assert done.status_code == 286 and "Verified" in page_text(done)
    assert "every 1s" not in page_text(done)


def test_a_credential_that_policies_use_cannot_be_deleted(operator_client):
    policy = PullSecretPolicyFactory(name="prod-pull")

    response = operator_client.post(
        reverse("accounts:credential-delete", args=[policy.credential.pk]), follow=True
    )

    assert "Policies still use this credential: prod-pull." in page_text(response)
    assert RegistryCredential.objects.filter(pk=policy.credential.pk).exists()


def test_deleting_an_unused_credential_forgets_it(operator_client):
    credential = RegistryCredentialFactory(name="old")

    question = page_text(
        operator_client.get(reverse("accounts:credential-delete", args=[credential.pk]))
    )
    response = operator_client.post(reverse("accounts:credential-delete", args=[credential.pk]))

    assert "Pull Secrets already written into clusters stay there" in question
    assert response.status_code == 302
    assert not RegistryCredential.objects.exists()
    assert AuditEvent.objects.filter(verb="credential.delete", target_name="old").exists()


def test_the_credential_list_shows_each_verification(viewer_client):
    RegistryCredentialFactory(name="good", verification="verified")
    RegistryCredentialFactory(name="bad", verification="failed", verification_message="refused")

    html = page_text(viewer_client.get(reverse("accounts:credential-list")))

    assert "good" in html and "Verified" in html
    assert "bad" in html and "Failed" in html and "refused" in html


def test_finding_tke_clusters_lists_them_to_pick_without_echoing_the_key(
    operator_client, tke_keys, kubeapi
):
    response = operator_client.post(
        reverse("accounts:new-tke"), tke_post(tke_keys) | {"discover": "1"}
    )
    assert response.url == reverse("accounts:new-tke-pick")
    page = operator_client.get(response.url).content.decode()
    assert "prod (cls-prod01)" in page and "stage (cls-stage01)" in page
    assert tke_keys.secret_key not in page
    session = operator_client.session["tke_pending"]
    assert tke_keys.secret_key not in str(session)  # kept Fernet-encrypted
    assert not CloudAccount.objects.exists()


def test_picking_one_tke_cluster_imports_only_that_one(
    operator_client, tke_keys, kubeapi, eager_celery, django_capture_on_commit_callbacks
):
    operator_client.post(reverse("accounts:new-tke"), tke_post(tke_keys) | {"discover": "1"})
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            reverse("accounts:new-tke-pick"), {"clusters": ["cls-stage01"], "endpoint": "private"}
        )
    account = CloudAccount.objects.get()
    assert response.url == reverse("accounts:detail", args=[account.pk])
    assert [c.tke_cluster_id for c in account.clusters.all()] == ["cls-stage01"]
    assert account.tke_secret_key == tke_keys.secret_key and not account.tke_extranet
    assert "tke_pending" not in operator_client.session


def test_a_pick_on_the_wrong_endpoint_stays_on_the_page_to_choose_again(
    operator_client, tke_keys, kubeapi
):
    operator_client.post(reverse("accounts:new-tke"), tke_post(tke_keys) | {"discover": "1"})
    response = operator_client.post(
        reverse("accounts:new-tke-pick"), {"clusters": ["cls-stage01"], "endpoint": "public"}
    )
    assert response.status_code == 400
    assert "choose the private endpoint instead" in response.content.decode()
    assert not CloudAccount.objects.exists() and "tke_pending" in operator_client.session


def test_picking_nothing_is_refused_with_a_message(operator_client, tke_keys, kubeapi):
    operator_client.post(reverse("accounts:new-tke"), tke_post(tke_keys) | {"discover": "1"})
    response = operator_client.post(reverse("accounts:new-tke-pick"), {"endpoint": "public"})
    assert "Pick at least one cluster." in response.content.decode()


def test_the_pick_page_without_discovery_sends_you_back(operator_client):
    response = operator_client.get(reverse("accounts:new-tke-pick"))
    assert response.url == reverse("accounts:new-tke")


def test_a_rejected_key_is_explained_before_any_pick(operator_client, tke_keys):
    response = operator_client.post(
        reverse("accounts:new-tke"),
        tke_post(tke_keys, secret_key="not-the-key") | {"discover": "1"},
    )
    assert response.status_code == 400
    assert "Tencent Cloud refused the SecretKey" in response.content.decode()
    assert "tke_pending" not in operator_client.session


def test_a_viewer_cannot_pick_tke_clusters(viewer_client):
    assert viewer_client.post(reverse("accounts:new-tke-pick"), {}).status_code == 403
