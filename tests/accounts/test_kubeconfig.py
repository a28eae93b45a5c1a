"""Kubeconfig validation: what is accepted, what is refused, and what the person is told."""

from __future__ import annotations

import base64
import copy
import json
import tracemalloc
from typing import Any

import pytest
import yaml

from accounts.kubeconfig import (
    KubeconfigError,
    KubeContext,
    parse_ca_certificate,
    service_account_context,
    validate_api_server_url,
    validate_kubeconfig,
)
from tests.accounts.certs import CertificateAuthority, make_ca

TOKEN = "eyJhbGciOiJSUzI1NiJ9.c3ViamVjdA.c2lnbmF0dXJl"


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    """One CA for the module; generating keys per test is needless work."""
    return make_ca("cluster CA")


@pytest.fixture(autouse=True)
def _plain_settings(settings: Any) -> None:
    """Start every test from production-like settings, whatever the environment says."""
    settings.DEBUG = False
    settings.REGCRED_ALLOWED_API_HOSTS = []


def config(ca: CertificateAuthority) -> dict[str, Any]:
    """A valid one-cluster kubeconfig that tests change one entry of."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "prod",
                "cluster": {
                    "server": "https://K8S.example.com:6443/",
                    "certificate-authority-data": ca.b64,
                },
            }
        ],
        "users": [{"name": "ci-bot", "user": {"token": TOKEN}}],
        "contexts": [
            {
                "name": "prod-ci",
                "context": {"cluster": "prod", "user": "ci-bot", "namespace": "apps"},
            }
        ],
        "current-context": "prod-ci",
    }


def refused(document: dict[str, Any] | str | bytes) -> str:
    """Validate a document that must be refused; return the message."""
    data = yaml.safe_dump(document) if isinstance(document, dict) else document
    with pytest.raises(KubeconfigError) as caught:
        validate_kubeconfig(data)
    assert str(caught.value) == caught.value.message
    return caught.value.message


# --- Accepted --------------------------------------------------------------------------------


def test_it_returns_the_context_of_a_token_kubeconfig(ca: CertificateAuthority) -> None:
    result = validate_kubeconfig(yaml.safe_dump(config(ca)))

    assert result.current_context == "prod-ci"
    assert result.warnings == []
    [context] = result.contexts
    assert context.name == "prod-ci"
    assert context.cluster_name == "prod"
    assert context.server == "https://k8s.example.com:6443"
    assert context.ca_pem == ca.pem
    assert context.insecure_skip_tls_verify is False
    assert context.token == TOKEN
    assert context.namespace == "apps"
    assert (context.client_cert_pem, context.client_key_pem) == (None, None)
    assert (context.username, context.password) == (None, None)


def test_it_accepts_a_json_kubeconfig(ca: CertificateAuthority) -> None:
    result = validate_kubeconfig(json.dumps(config(ca), indent="\t").encode())

    assert [context.name for context in result.contexts] == ["prod-ci"]
    assert result.contexts[0].token == TOKEN


def test_it_accepts_bytes_with_a_byte_order_mark(ca: CertificateAuthority) -> None:
    data = b"\xef\xbb\xbf" + yaml.safe_dump(config(ca)).encode()

    assert validate_kubeconfig(data).contexts[0].server == "https://k8s.example.com:6443"


def test_it_accepts_inline_client_certificates(ca: CertificateAuthority) -> None:
    client = ca.issue_client("ci-bot")
    document = config(ca)
    document["users"][0]["user"] = {
        "client-certificate-data": client.cert_b64,
        "client-key-data": client.key_b64,
    }

    [context] = validate_kubeconfig(yaml.safe_dump(document)).contexts

    assert context.client_cert_pem == client.cert_pem
    assert context.client_key_pem == client.key_pem
    assert context.token is None


def test_it_accepts_basic_auth_users(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["users"][0]["user"] = {"username": "admin", "password": "pa:ss word"}

    [context] = validate_kubeconfig(yaml.safe_dump(document)).contexts

    assert (context.username, context.password) == ("admin", "pa:ss word")


def test_it_returns_every_context(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["users"].append({"name": "viewer", "user": {"token": "other-token"}})
    document["contexts"].append(
        {"name": "prod-view", "context": {"cluster": "prod", "user": "viewer"}}
    )
    del document["current-context"]

    result = validate_kubeconfig(yaml.safe_dump(document))

    assert [(c.name, c.token, c.namespace) for c in result.contexts] == [
        ("prod-ci", TOKEN, "apps"),
        ("prod-view", "other-token", None),
    ]
    assert result.current_context is None


def test_it_accepts_ordinary_yaml_anchors(ca: CertificateAuthority) -> None:
    text = f"""
clusters:
- name: a
  cluster: &shared
    server: https://a.example.com
    certificate-authority-data: {ca.b64}
- name: b
  cluster: *shared
users:
- name: u
  user: {{token: t0k3n}}
contexts:
- {{name: a, context: {{cluster: a, user: u}}}}
- {{name: b, context: {{cluster: b, user: u}}}}
"""
    result = validate_kubeconfig(text)

    assert [c.server for c in result.contexts] == ["https://a.example.com"] * 2


def test_it_accepts_private_and_loopback_https_servers(ca: CertificateAuthority) -> None:
    for server, expected in [
        ("https://10.0.0.12:6443", "https://10.0.0.12:6443"),
        ("https://127.0.0.1:6443", "https://127.0.0.1:6443"),
        ("https://[0:0::1]:443/", "https://[::1]"),
        (
            "https://rancher.example.com/k8s/clusters/c-abc/",
            "https://rancher.example.com/k8s/clusters/c-abc",
        ),
    ]:
        document = config(ca)
        document["clusters"][0]["cluster"]["server"] = server
        assert validate_kubeconfig(yaml.safe_dump(document)).contexts[0].server == expected


def test_it_warns_about_clusters_that_skip_tls_verification(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["clusters"][0]["cluster"] = {
        "server": "https://k8s.example.com",
        "insecure-skip-tls-verify": True,
    }

    result = validate_kubeconfig(yaml.safe_dump(document))

    assert result.contexts[0].insecure_skip_tls_verify is True
    assert result.contexts[0].ca_pem is None
    assert result.warnings == [
        'Cluster "prod" skips TLS verification (insecure-skip-tls-verify); '
        "its identity cannot be checked."
    ]


def test_it_warns_that_proxy_url_is_ignored(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["clusters"][0]["cluster"]["proxy-url"] = "http://proxy.example.com:3128"

    warnings = validate_kubeconfig(yaml.safe_dump(document)).warnings

    assert warnings == [
        'Cluster "prod" sets proxy-url, which the dashboard ignores; '
        "it connects to the server address directly."
    ]


def test_it_keeps_tls_server_name_for_certificate_checks(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["clusters"][0]["cluster"]["tls-server-name"] = "cls-abc.ccs.tencent-cloud.com"

    result = validate_kubeconfig(yaml.safe_dump(document))

    assert result.warnings == []
    assert result.contexts[0].tls_server_name == "cls-abc.ccs.tencent-cloud.com"


def test_it_refuses_a_tls_server_name_that_is_not_a_host_name(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["clusters"][0]["cluster"]["tls-server-name"] = "not a host/name"

    with pytest.raises(KubeconfigError) as excinfo:
        validate_kubeconfig(yaml.safe_dump(document))

    assert excinfo.value.message == (
        'Cluster "prod": tls-server-name "not a host/name" is not a host name.'
    )


# --- Refused: the file as a whole --------------------------------------------------------------


def test_it_refuses_files_over_256_kib(ca: CertificateAuthority) -> None:
    text = yaml.safe_dump(config(ca)) + "#" * (256 * 1024)

    assert refused(text) == "The kubeconfig is larger than 256 KiB."
    assert refused(text.encode()) == "The kubeconfig is larger than 256 KiB."


def test_it_refuses_text_that_is_not_utf8(ca: CertificateAuthority) -> None:
    data = yaml.safe_dump(config(ca)).replace("ci-bot", "ci-b\xf6t").encode("latin-1")

    assert refused(data) == "The kubeconfig is not UTF-8 text."


def test_it_refuses_an_empty_file() -> None:
    assert refused("  \n") == "The kubeconfig is empty."


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clusters: [\n", "The kubeconfig is neither JSON nor valid YAML (line 2: "),
        ('{"clusters": [}', "The kubeconfig is not valid JSON (line 1, column 15: "),
        ("a: 1\n---\nb: 2\n", "The kubeconfig is neither JSON nor valid YAML (line 2: "),
        ("a: !!python/object:os.system {}\n", "The kubeconfig is neither JSON nor valid YAML"),
    ],
)
def test_it_refuses_text_that_is_neither_yaml_nor_json(text: str, message: str) -> None:
    assert refused(text).startswith(message)


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string", "42"])
def test_it_refuses_a_document_that_is_not_a_mapping(text: str) -> None:
    assert refused(text) == "The kubeconfig is not a mapping of clusters, users and contexts."


@pytest.mark.parametrize("section", ["clusters", "users", "contexts"])
@pytest.mark.parametrize("value", ["missing", [], {}, None])
def test_it_refuses_a_missing_or_empty_section(
    ca: CertificateAuthority, section: str, value: Any
) -> None:
    document = config(ca)
    if value == "missing":
        del document[section]
    else:
        document[section] = value

    assert refused(document) == f'The kubeconfig has no "{section}" list, or it is empty.'


def billion_laughs(levels: int = 12) -> str:
    """The classic alias bomb: 9**levels strings from a few hundred bytes."""
    lines = ['lol0: &lol0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        aliases = ",".join([f"*lol{level - 1}"] * 9)
        lines.append(f"lol{level}: &lol{level} [{aliases}]")
    return "\n".join(lines) + f"\nclusters: *lol{levels - 1}\nusers: []\ncontexts: []\n"


def test_it_refuses_an_alias_bomb_without_expanding_it() -> None:
    tracemalloc.start()
    try:
        message = refused(billion_laughs())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert message == (
        "The kubeconfig expands to more data than any kubeconfig needs (YAML aliases)."
    )
    # Refused from the node graph, before anything is built: expanded, it would be gigabytes.
    assert peak < 20 * 1024 * 1024


def test_it_refuses_an_alias_bomb_of_long_strings() -> None:
    # Few nodes, but each alias repeats a 60 KiB string: the expanded text is what counts.
    text = f"big: &big [{'x' * 60_000!r}]\nmany: [" + ",".join(["*big"] * 100) + "]\n"

    assert "expands to more data" in refused(text)


def test_it_refuses_a_yaml_alias_that_contains_itself() -> None:
    assert refused("loop: &loop [*loop]\n") == (
        "The kubeconfig contains a YAML alias that refers to itself."
    )


@pytest.mark.parametrize(
    "text", ["[" * 5000 + "]" * 5000, "a:\n" + "".join(f"{' ' * i}b:\n" for i in range(1, 200))]
)
def test_it_refuses_deeply_nested_yaml(text: str) -> None:
    assert refused(text) == "The kubeconfig is nested too deeply."


def test_it_refuses_deeply_nested_json() -> None:
    assert refused('{"a":' + "[" * 100_000) == "The kubeconfig is nested too deeply."


def test_it_refuses_a_current_context_that_is_not_in_the_file(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["current-context"] = "staging"

    assert refused(document) == 'current-context "staging" is not one of the contexts in the file.'


def test_it_refuses_entries_without_a_name(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["users"].append({"user": {"token": "x"}})

    assert refused(document) == 'Entry 2 under "users" has no name.'


def test_it_refuses_duplicate_names(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["clusters"].append(copy.deepcopy(document["clusters"][0]))

    assert refused(document) == 'The name "prod" appears more than once under "clusters".'


def test_it_refuses_an_entry_without_its_body(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["clusters"][0] = {"name": "prod", "server": "https://k8s.example.com"}

    assert refused(document) == 'Entry "prod" under "clusters" has no "cluster" mapping.'


# --- Refused: contexts --------------------------------------------------------------------------


def test_it_refuses_a_context_naming_a_cluster_that_does_not_exist(
    ca: CertificateAuthority,
) -> None:
    document = config(ca)
    document["contexts"][0]["context"]["cluster"] = "staging"

    assert refused(document) == (
        'Context "prod-ci" names cluster "staging", which is not in the file.'
    )


def test_it_refuses_a_context_naming_a_user_that_does_not_exist(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["contexts"][0]["context"]["user"] = "admin"

    assert refused(document) == 'Context "prod-ci" names user "admin", which is not in the file.'


def test_it_refuses_a_context_without_a_user(ca: CertificateAuthority) -> None:
    document = config(ca)
    del document["contexts"][0]["context"]["user"]

    assert refused(document) == 'Context "prod-ci" names user "", which is not in the file.'


def test_it_refuses_an_invalid_namespace(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["contexts"][0]["context"]["namespace"] = "Not_A_Namespace"

    assert refused(document) == 'Context "prod-ci" has an invalid namespace "Not_A_Namespace".'


# --- Refused: users --------------------------------------------------------------------------


def test_it_refuses_exec_plugins(ca: CertificateAuthority) -> None:
    document = config(ca)
    # A token next to the plugin does not make the plugin acceptable.
    document["users"][0]["user"]["exec"] = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": "aws",
        "args": ["eks", "get-token"],
    }

    assert refused(document) == (
        'User "ci-bot" runs a command (exec plugin); only inline credentials are accepted.'
    )


def test_it_refuses_exec_plugins_of_users_no_context_uses(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["users"].append({"name": "unused", "user": {"exec": {"command": "sh"}}})

    assert refused(document) == (
        'User "unused" runs a command (exec plugin); only inline credentials are accepted.'
    )


def test_it_refuses_auth_provider_plugins(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["users"][0]["user"] = {"auth-provider": {"name": "gcp"}}

    assert refused(document) == (
        'User "ci-bot" uses an auth provider plugin; only inline credentials are accepted.'
    )


@pytest.mark.parametrize(
    ("key", "inline"),
    [
        ("tokenFile", "token"),
        ("token-file", "token"),
        ("client-certificate", "client-certificate-data"),
        ("client-key", "client-key-data"),
    ],
)
def test_it_refuses_users_that_refer_to_files_on_the_server(
    ca: CertificateAuthority, key: str, inline: str
) -> None:
    document = config(ca)
    document["users"][0]["user"][key] = "/var/run/secrets/kubernetes.io/serviceaccount/token"

    assert refused(document) == (
        f'User "ci-bot" refers to a file on this server ({key}); '
        f"paste the content as {inline} instead."
    )


@pytest.mark.parametrize("key", ["as", "as-groups", "as-uid", "as-user-extra"])
def test_it_refuses_impersonation(ca: CertificateAuthority, key: str) -> None:
    document = config(ca)
    document["users"][0]["user"][key] = "system:admin"

    assert refused(document) == (
        f'User "ci-bot" impersonates another identity ({key}), which is not supported.'
    )


def test_it_refuses_users_without_credentials(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["users"][0]["user"] = {}

    assert refused(document) == (
        'User "ci-bot" has no credentials: give a token, a client certificate and key, '
        "or a username and password inline."
    )


@pytest.mark.parametrize(
    "user", [{"username": "admin"}, {"password": "secret"}, {"username": "a", "password": 1234}]
)
def test_it_refuses_half_of_a_username_and_password(
    ca: CertificateAuthority, user: dict[str, Any]
) -> None:
    document = config(ca)
    document["users"][0]["user"] = user

    assert refused(document) == (
        'User "ci-bot" must give both a username and a password, or neither.'
    )


@pytest.mark.parametrize("token", ["", "two words", "line\nbreak"])
def test_it_refuses_tokens_with_spaces_or_control_characters(
    ca: CertificateAuthority, token: str
) -> None:
    document = config(ca)
    document["users"][0]["user"]["token"] = token

    assert refused(document) == (
        'User "ci-bot" has a token that is empty or contains spaces or control characters.'
    )


def test_it_refuses_a_client_certificate_without_a_key(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["users"][0]["user"]["client-certificate-data"] = ca.issue_client("x").cert_b64

    assert refused(document) == (
        'User "ci-bot" needs both client-certificate-data and client-key-data.'
    )


def test_it_refuses_a_client_key_without_a_certificate(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["users"][0]["user"]["client-key-data"] = ca.issue_client("x").key_b64

    assert refused(document) == (
        'User "ci-bot" needs both client-certificate-data and client-key-data.'
    )


def test_it_refuses_a_client_certificate_and_key_that_do_not_match(
    ca: CertificateAuthority,
) -> None:
    document = config(ca)
    document["users"][0]["user"] = {
        "client-certificate-data": ca.issue_client("one").cert_b64,
        "client-key-data": ca.issue_client("two").key_b64,
    }

    assert refused(document) == (
        'User "ci-bot": the client certificate and key do not belong together.'
    )


def test_it_refuses_a_client_certificate_that_does_not_parse(ca: CertificateAuthority) -> None:
    client = ca.issue_client("ci-bot")
    document = config(ca)
    document["users"][0]["user"] = {
        "client-certificate-data": base64.b64encode(b"not a certificate").decode(),
        "client-key-data": client.key_b64,
    }

    assert refused(document) == ('User "ci-bot": client-certificate-data is not a PEM certificate.')


def test_it_refuses_a_client_key_that_does_not_parse(ca: CertificateAuthority) -> None:
    client = ca.issue_client("ci-bot")
    document = config(ca)
    document["users"][0]["user"] = {
        "client-certificate-data": client.cert_b64,
        # A certificate where the key belongs.
        "client-key-data": client.cert_b64,
    }

    assert refused(document) == (
        'User "ci-bot": client-key-data is not an unencrypted PEM private key.'
    )


@pytest.mark.parametrize(
    ("section", "key", "kind", "name"),
    [
        ("clusters", "certificate-authority-data", "Cluster", "prod"),
        ("users", "client-certificate-data", "User", "ci-bot"),
        ("users", "client-key-data", "User", "ci-bot"),
    ],
)
def test_it_refuses_bad_base64(
    ca: CertificateAuthority, section: str, key: str, kind: str, name: str
) -> None:
    document = config(ca)
    body = document[section][0]["cluster" if section == "clusters" else "user"]
    client = ca.issue_client("ci-bot")
    if section == "users":
        body.update({"client-certificate-data": client.cert_b64, "client-key-data": client.key_b64})
    body[key] = "not*base64!"

    assert refused(document) == f'{kind} "{name}": {key} is not valid base64.'


@pytest.mark.parametrize(
    "data",
    [
        base64.b64encode(b"hello").decode(),
        # A private key pasted where the CA belongs.
        "key",
        # DER is fine on the service-account form, but kubectl wants PEM in a kubeconfig.
        "der",
    ],
)
def test_it_refuses_ca_data_that_is_not_a_pem_certificate(
    ca: CertificateAuthority, data: str
) -> None:
    data = {"key": ca.issue_client("x").key_b64, "der": ca.der_b64}.get(data, data)
    document = config(ca)
    document["clusters"][0]["cluster"]["certificate-authority-data"] = data

    assert refused(document) == (
        'Cluster "prod": certificate-authority-data is not a PEM certificate.'
    )


# --- Refused: clusters -----------------------------------------------------------------------


def test_it_refuses_a_ca_file_on_the_server(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["clusters"][0]["cluster"]["certificate-authority"] = "/etc/kubernetes/pki/ca.crt"

    assert refused(document) == (
        'Cluster "prod" refers to a file on this server (certificate-authority); '
        "paste the certificate as certificate-authority-data instead."
    )


def test_it_refuses_a_cluster_without_a_server(ca: CertificateAuthority) -> None:
    document = config(ca)
    del document["clusters"][0]["cluster"]["server"]

    assert refused(document) == 'Cluster "prod" has no server address.'


def test_it_refuses_a_ca_together_with_insecure_skip_tls_verify(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["clusters"][0]["cluster"]["insecure-skip-tls-verify"] = True

    assert refused(document) == (
        'Cluster "prod" sets both certificate-authority-data and insecure-skip-tls-verify; '
        "keep only one."
    )


def test_it_refuses_a_non_boolean_insecure_flag(ca: CertificateAuthority) -> None:
    document = config(ca)
    document["clusters"][0]["cluster"]["insecure-skip-tls-verify"] = "yes please"

    assert refused(document) == ('Cluster "prod": insecure-skip-tls-verify must be true or false.')


@pytest.mark.parametrize(
    "server",
    ["http://k8s.example.com:8080", "ftp://k8s.example.com", "k8s.example.com:6443"],
)
def test_it_refuses_servers_that_are_not_https(ca: CertificateAuthority, server: str) -> None:
    document = config(ca)
    document["clusters"][0]["cluster"]["server"] = server

    message = refused(document)

    assert message.startswith(f'Cluster "prod": The API server address "{server}" must ')
    assert "https://" in message


def test_it_allows_http_to_loopback_only_in_debug(ca: CertificateAuthority, settings: Any) -> None:
    document = config(ca)
    document["clusters"][0]["cluster"] = {"server": "http://127.0.0.1:8001"}

    assert refused(document) == (
        'Cluster "prod": The API server address "http://127.0.0.1:8001" must use https:// '
        "(http:// is allowed only to this machine in development)."
    )

    settings.DEBUG = True
    assert validate_kubeconfig(yaml.safe_dump(document)).contexts[0].server == (
        "http://127.0.0.1:8001"
    )
    assert validate_api_server_url("http://localhost:8001") == "http://localhost:8001"
    assert validate_api_server_url("http://[::1]:8001") == "http://[::1]:8001"
    with pytest.raises(KubeconfigError, match="must use https://"):
        validate_api_server_url("http://10.0.0.1:8080")


@pytest.mark.parametrize(
    ("server", "host"),
    [
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("https://169.254.0.23", "169.254.0.23"),
        ("https://[fe80::1]:6443", "fe80::1"),
        ("https://[fd00:ec2::254]", "fd00:ec2::254"),
        ("https://[::ffff:169.254.169.254]", "::ffff:a9fe:a9fe"),
        ("https://metadata.google.internal", "metadata.google.internal"),
        ("https://Metadata.Google.Internal.:443", "metadata.google.internal"),
        ("https://metadata.tencentyun.com", "metadata.tencentyun.com"),
        ("https://100.100.100.200", "100.100.100.200"),
    ],
)
def test_it_refuses_link_local_and_metadata_servers(
    ca: CertificateAuthority, server: str, host: str
) -> None:
    document = config(ca)
    document["clusters"][0]["cluster"]["server"] = server

    message = refused(document)

    assert message.startswith(f'Cluster "prod": "{host}" is ')
    assert "metadata" in message


@pytest.mark.parametrize("host", ["2852039166", "0xa9.0xfe.0xa9.0xfe", "0251.0376.0251.0376"])
def test_it_refuses_ip_addresses_in_unusual_forms(host: str) -> None:
    # getaddrinfo() reads all of these as 169.254.169.254.
    with pytest.raises(KubeconfigError) as caught:
        validate_api_server_url(f"https://{host}:6443")

    assert caught.value.message == (
        f'"{host}" looks like an IP address in an unusual form; write it as four decimal '
        "numbers separated by dots."
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "The API server address is empty."),
        ("https://0.0.0.0", '"0.0.0.0" is not a usable address.'),
        (
            "https://admin:pw@k8s.example.com",
            "The API server address must not contain a user name or password; "
            "give credentials separately.",
        ),
        (
            "https://k8s.example.com/?x=1",
            'The API server address "https://k8s.example.com/?x=1" must not have a query or '
            "fragment.",
        ),
        (
            "https://k8s example.com",
            'The API server address "https://k8s example.com" contains spaces or control '
            "characters.",
        ),
        (
            "https://k8s.example.com:99999",
            'The API server address "https://k8s.example.com:99999" is not a valid URL.',
        ),
        ("https://bad!host.com", '"bad!host.com" is not a valid host name.'),
    ],
)
def test_it_refuses_malformed_server_addresses(url: str, message: str) -> None:
    with pytest.raises(KubeconfigError) as caught:
        validate_api_server_url(url)

    assert caught.value.message == message


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("  https://K8S.Example.COM:443/  ", "https://k8s.example.com"),
        ("https://k8s.example.com:6443", "https://k8s.example.com:6443"),
        ("HTTPS://10.1.2.3:6443/", "https://10.1.2.3:6443"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
    ],
)
def test_it_normalises_server_addresses(url: str, normalised: str) -> None:
    assert validate_api_server_url(url) == normalised


def test_it_only_accepts_allowed_hosts_when_a_list_is_set(
    ca: CertificateAuthority, settings: Any
) -> None:
    settings.REGCRED_ALLOWED_API_HOSTS = ["k8s.example.com", "*.tke.example.net", "10.0.0.1"]

    assert validate_api_server_url("https://K8S.example.com:6443") == "https://k8s.example.com:6443"
    assert (
        validate_api_server_url("https://cls-1.tke.example.net") == "https://cls-1.tke.example.net"
    )
    assert validate_api_server_url("https://a.b.tke.example.net") == "https://a.b.tke.example.net"
    assert validate_api_server_url("https://10.0.0.1") == "https://10.0.0.1"
    for refused_url, host in [
        ("https://other.example.com", "other.example.com"),
        # A wildcard covers subdomains, not the bare domain or look-alikes.
        ("https://tke.example.net", "tke.example.net"),
        ("https://eviltke.example.net", "eviltke.example.net"),
        ("https://10.0.0.2", "10.0.0.2"),
    ]:
        with pytest.raises(KubeconfigError) as caught:
            validate_api_server_url(refused_url)
        assert caught.value.message == (
            f'The API server "{host}" is not in the list of hosts this dashboard may connect to.'
        )

    document = config(ca)
    document["clusters"][0]["cluster"]["server"] = "https://elsewhere.example.org"
    assert refused(document).startswith('Cluster "prod": The API server "elsewhere.example.org"')


# --- CA certificates and the service-account form --------------------------------------------


def test_it_reads_ca_certificates_as_pem_base64_pem_or_base64_der(
    ca: CertificateAuthority,
) -> None:
    assert parse_ca_certificate(ca.pem) == ca.pem
    assert parse_ca_certificate(f"\n  {ca.pem}\n") == ca.pem
    assert parse_ca_certificate(ca.b64) == ca.pem
    assert parse_ca_certificate(ca.der_b64) == ca.pem
    # Wrapped at 64 columns, as `base64` prints it.
    wrapped = "\n".join(ca.b64[i : i + 64] for i in range(0, len(ca.b64), 64))
    assert parse_ca_certificate(wrapped) == ca.pem


def test_it_keeps_every_certificate_of_a_bundle_and_nothing_else(ca: CertificateAuthority) -> None:
    other = make_ca("second CA")
    key = ca.issue_client("x").key_pem

    assert parse_ca_certificate(ca.pem + key + other.pem) == ca.pem + other.pem


@pytest.mark.parametrize(
    "text",
    ["", "hello", base64.b64encode(b"hello").decode(), "-----BEGIN CERTIFICATE-----\nxx\n"],
)
def test_it_refuses_ca_certificates_it_cannot_read(text: str) -> None:
    with pytest.raises(KubeconfigError):
        parse_ca_certificate(text)


def test_it_refuses_a_private_key_as_ca_certificate(ca: CertificateAuthority) -> None:
    with pytest.raises(KubeconfigError) as caught:
        parse_ca_certificate(ca.issue_client("x").key_pem)

    assert caught.value.message == (
        "The CA certificate is not a PEM certificate, base64 of one, or base64 DER."
    )


def test_it_builds_a_service_account_context(ca: CertificateAuthority) -> None:
    context = service_account_context(
        server="https://K8S.example.com:6443/", token=f" {TOKEN}\n", ca=ca.b64, name="team-a"
    )

    assert context == KubeContext(
        name="team-a",
        cluster_name="team-a",
        server="https://k8s.example.com:6443",
        ca_pem=ca.pem,
        insecure_skip_tls_verify=False,
        token=TOKEN,
        client_cert_pem=None,
        client_key_pem=None,
        username=None,
        password=None,
        namespace=None,
    )


def test_a_service_account_context_without_ca_uses_system_trust() -> None:
    context = service_account_context(server="https://k8s.example.com", token=TOKEN, ca="  ")

    assert context.ca_pem is None
    assert context.name == "service-account"


def test_the_service_account_form_follows_the_kubeconfig_rules(
    ca: CertificateAuthority, settings: Any
) -> None:
    with pytest.raises(KubeconfigError, match="metadata"):
        service_account_context(server="https://169.254.169.254", token=TOKEN, ca=ca.pem)
    with pytest.raises(KubeconfigError, match="must use https://"):
        service_account_context(server="http://k8s.example.com", token=TOKEN, ca=ca.pem)
    with pytest.raises(KubeconfigError, match="The CA certificate is not"):
        service_account_context(server="https://k8s.example.com", token=TOKEN, ca="garbage")
    with pytest.raises(KubeconfigError, match=r"The service-account token is empty\."):
        service_account_context(server="https://k8s.example.com", token=" \n", ca=ca.pem)
    with pytest.raises(KubeconfigError, match="spaces or control characters"):
        service_account_context(server="https://k8s.example.com", token="a b", ca=ca.pem)
    settings.REGCRED_ALLOWED_API_HOSTS = ["*.example.org"]
    with pytest.raises(KubeconfigError, match="not in the list of hosts"):
        service_account_context(server="https://k8s.example.com", token=TOKEN, ca=ca.pem)


# --- Storage ----------------------------------------------------------------------------------


def test_a_context_survives_a_json_round_trip(ca: CertificateAuthority) -> None:
    client = ca.issue_client("ci-bot")
    document = config(ca)
    document["users"][0]["user"].update(
        {"client-certificate-data": client.cert_b64, "client-key-data": client.key_b64}
    )
    [context] = validate_kubeconfig(yaml.safe_dump(document)).contexts

    stored = json.loads(json.dumps(context.to_dict()))

    assert KubeContext.from_dict(stored) == context
    assert stored["token"] == TOKEN


def test_from_dict_refuses_a_record_without_a_server() -> None:
    with pytest.raises(ValueError, match="server"):
        KubeContext.from_dict({"name": "a", "cluster_name": "a"})


def test_a_context_repr_does_not_show_secrets(ca: CertificateAuthority) -> None:
    context = service_account_context(server="https://k8s.example.com", token=TOKEN, ca=ca.pem)

    assert TOKEN not in repr(context)
    assert "k8s.example.com" in repr(context)
