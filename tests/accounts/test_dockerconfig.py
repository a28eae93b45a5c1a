"""The `.dockerconfigjson` we write must be byte for byte what kubectl writes."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from accounts.dockerconfig import (
    canonical_registry_host,
    content_checksum,
    dockerconfigjson,
    normalise_registry_server,
    registry_hosts,
)

# Characters Go's encoding/json treats specially: HTML-escaped <>&, quote and backslash,
# \b \f \n \r \t short forms (Go 1.22+), other controls as \u00XX, U+2028/2029 escaped,
# DEL, slash and non-ASCII left raw.
SPECIAL_PASSWORD = 'p<a>s"s\\w\u2028d\t\u00e9\b\f\x01\x7f/'


def test_it_writes_what_kubectl_writes_for_plain_values() -> None:
    # From `kubectl create secret docker-registry x --docker-server=S --docker-username=U
    # --docker-password=P --dry-run=client -o jsonpath='{.data.\.dockerconfigjson}'`.
    assert dockerconfigjson(server="S", username="U", password="P") == (
        b'{"auths":{"S":{"username":"U","password":"P","auth":"VTpQ"}}}'
    )


def test_it_writes_the_email_between_password_and_auth() -> None:
    assert dockerconfigjson(
        server="team-docker.pkg.coding.net",
        username="ci",
        password="secret",
        email="ci@example.com",
    ) == (
        b'{"auths":{"team-docker.pkg.coding.net":{"username":"ci","password":"secret",'
        b'"email":"ci@example.com","auth":"Y2k6c2VjcmV0"}}}'
    )


def test_it_escapes_special_characters_as_go_does() -> None:
    result = dockerconfigjson(
        server="Reg.example.com:5000/v1/",
        username="ci&bot",
        password=SPECIAL_PASSWORD,
        email="a@b.c",
    )

    # The server is written as given: kubectl does not normalise it.
    assert result == (
        b'{"auths":{"Reg.example.com:5000/v1/":{"username":"ci\\u0026bot",'
        b'"password":"p\\u003ca\\u003es\\"s\\\\w\\u2028d\\t\xc3\xa9\\b\\f\\u0001\x7f/",'
        b'"email":"a@b.c","auth":"Y2kmYm90OnA8YT5zInNcd+KAqGQJw6kIDAF/Lw=="}}}'
    )
    decoded = json.loads(result)["auths"]["Reg.example.com:5000/v1/"]
    assert decoded["password"] == SPECIAL_PASSWORD
    assert base64.b64decode(decoded["auth"]).decode() == f"ci&bot:{SPECIAL_PASSWORD}"


@pytest.mark.parametrize(
    ("field", "values"),
    [
        ("server", {"server": "", "username": "u", "password": "p"}),
        ("username", {"server": "s", "username": "", "password": "p"}),
        ("password", {"server": "s", "username": "u", "password": ""}),
    ],
)
def test_it_refuses_what_kubectl_refuses(field: str, values: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=f"docker {field} must not be empty"):
        dockerconfigjson(**values)


def test_it_refuses_text_that_is_not_unicode() -> None:
    with pytest.raises(ValueError, match="docker password is not valid Unicode text"):
        dockerconfigjson(server="s", username="u", password="bad\udcff")


@pytest.mark.kubectl
@pytest.mark.parametrize(
    ("server", "username", "password", "email"),
    [
        ("S", "U", "P", ""),
        ("https://index.docker.io/v1/", "team", "t0k3n", "team@example.com"),
        ("Reg.example.com:5000/v1/", "ci&bot", SPECIAL_PASSWORD, "<a@b.c>"),
        ("中文.example.com", "用户", "密码\u2029", ""),
    ],
)
def test_it_matches_the_real_kubectl(
    tmp_path: Path, server: str, username: str, password: str, email: str
) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    command = [
        kubectl,
        "create",
        "secret",
        "docker-registry",
        "pull",
        f"--docker-server={server}",
        f"--docker-username={username}",
        f"--docker-password={password}",
        "--dry-run=client",
        "-o",
        r"jsonpath={.data.\.dockerconfigjson}",
    ]
    if email:
        command.append(f"--docker-email={email}")
    # An empty kubeconfig: client-side dry runs never talk to a cluster.
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    result = subprocess.run(
        command,
        capture_output=True,
        check=True,
        timeout=60,
        env={"KUBECONFIG": str(kubeconfig), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )

    expected = base64.b64decode(result.stdout)
    assert dockerconfigjson(server=server, username=username, password=password, email=email) == (
        expected
    )


@pytest.mark.parametrize(
    ("server", "host"),
    [
        ("https://Registry.Example.com:5000/v1/", "registry.example.com:5000"),
        ("http://registry.example.com/", "registry.example.com"),
        ("registry.example.com", "registry.example.com"),
        ("  team-docker.pkg.coding.net/project/repo  ", "team-docker.pkg.coding.net"),
        ("HTTPS://[::1]:5000/", "[::1]:5000"),
        ("https://index.docker.io/v1/", "index.docker.io"),
    ],
)
def test_it_normalises_registry_servers(server: str, host: str) -> None:
    assert normalise_registry_server(server) == host


def test_it_refuses_an_empty_registry_server() -> None:
    with pytest.raises(ValueError, match="registry server is empty"):
        normalise_registry_server("https://")


@pytest.mark.parametrize(
    "server",
    ["https://index.docker.io/v1/", "registry-1.docker.io", "docker.io", "https://DOCKER.IO"],
)
def test_it_unifies_docker_hub_names(server: str) -> None:
    assert canonical_registry_host(server) == "docker.io"


def test_it_lists_the_hosts_of_an_auths_mapping() -> None:
    content = json.dumps(
        {
            "auths": {
                "https://index.docker.io/v1/": {"auth": "eDp5"},
                "registry-1.docker.io": {"auth": "eDp5"},
                "Team-Docker.pkg.coding.net": {"auth": "eDp5"},
                "http://localhost:5000/v2/": {"auth": "eDp5"},
            },
            "HttpHeaders": {"User-Agent": "x"},
        }
    ).encode()

    assert registry_hosts(content) == {"docker.io", "team-docker.pkg.coding.net", "localhost:5000"}


def test_it_lists_the_hosts_of_a_legacy_dockercfg() -> None:
    legacy = {"https://registry.example.com/v1/": {"auth": "eDp5", "email": "a@b.c"}}

    assert registry_hosts(legacy) == {"registry.example.com"}
    assert registry_hosts(json.dumps(legacy).encode()) == {"registry.example.com"}


def test_it_lists_the_host_of_what_it_writes() -> None:
    content = dockerconfigjson(server="https://Reg.example.com/", username="u", password="p")

    assert registry_hosts(content) == {"reg.example.com"}


@pytest.mark.parametrize("content", [b"not json", b"[1, 2]", b"\xff\xfe"])
def test_it_refuses_docker_configs_that_are_not_json_objects(content: bytes) -> None:
    with pytest.raises(ValueError, match="docker config is not"):
        registry_hosts(content)


def test_the_checksum_is_the_sha256_of_the_bytes() -> None:
    content = dockerconfigjson(server="S", username="U", password="P")

    assert content_checksum(content) == hashlib.sha256(content).hexdigest()
    assert content_checksum(b"") == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert content_checksum(content) != content_checksum(content + b" ")
