"""Registry credential checks against a real docker-registry and a Bearer-token stand-in."""

from __future__ import annotations

import logging
import socket
from typing import Any

import pytest

from accounts.registry import (
    RegistryError,
    VerificationResult,
    parse_www_authenticate,
    registry_verify,
)
from tests.registry.fakes import BearerRegistry
from tests.registry.fixtures import RunningRegistry


@pytest.fixture(autouse=True)
def _short_timeout(settings: Any) -> None:
    settings.REGCRED_REGISTRY_TIMEOUT = 5.0


def refused(**kwargs: Any) -> RegistryError:
    """Verify a credential that must fail; return the error."""
    with pytest.raises(RegistryError) as caught:
        registry_verify(**kwargs)
    assert str(caught.value) == caught.value.message
    return caught.value


def closed_port() -> int:
    """A loopback port nothing listens on (bound and released at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Basic auth against the real docker-registry ---------------------------------------------


def test_it_accepts_the_right_password(registry_server: RunningRegistry) -> None:
    result = registry_verify(
        server=registry_server.host,
        username=registry_server.username,
        password=registry_server.password,
        ca_pem=registry_server.ca_pem,
    )

    assert result == VerificationResult(
        ok=True,
        message=f"The registry {registry_server.host} accepted the username and password.",
        scheme="basic",
    )


def test_it_accepts_a_server_written_with_scheme_and_path(registry_server: RunningRegistry) -> None:
    result = registry_verify(
        server=f"{registry_server.url}/team/app/",
        username=registry_server.username,
        password=registry_server.password,
        ca_pem=registry_server.ca_pem,
    )

    assert (result.ok, result.scheme) == (True, "basic")


def test_it_refuses_a_wrong_password_for_good(
    registry_server: RunningRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-" + registry_server.password
    with caplog.at_level(logging.DEBUG):
        error = refused(
            server=registry_server.host,
            username=registry_server.username,
            password=wrong,
            ca_pem=registry_server.ca_pem,
        )

    assert error.permanent is True
    assert error.message == (
        f"The registry {registry_server.host} refused the username or password."
    )
    assert wrong not in caplog.text
    assert registry_server.host in caplog.text  # the debug line was written, without secrets


def test_it_refuses_an_unknown_user(registry_server: RunningRegistry) -> None:
    error = refused(
        server=registry_server.host,
        username="mallory",
        password=registry_server.password,
        ca_pem=registry_server.ca_pem,
    )

    assert error.permanent is True
    assert "refused the username or password" in error.message


def test_it_fails_tls_without_the_registry_ca(registry_server: RunningRegistry) -> None:
    error = refused(
        server=registry_server.host,
        username=registry_server.username,
        password=registry_server.password,
    )

    assert error.permanent is False
    assert error.message.startswith(f"The TLS connection to {registry_server.host} failed: ")
    assert "certificate" in error.message
    assert registry_server.password not in error.message


def test_it_fails_tls_with_another_ca(registry_server: RunningRegistry) -> None:
    from tests.accounts.certs import make_ca

    error = refused(
        server=registry_server.host,
        username=registry_server.username,
        password=registry_server.password,
        ca_pem=make_ca("someone else").pem,
    )

    assert error.permanent is False
    assert "certificate not trusted" in error.message


def test_it_skips_verification_only_when_asked(registry_server: RunningRegistry) -> None:
    result = registry_verify(
        server=registry_server.host,
        username=registry_server.username,
        password=registry_server.password,
        insecure=True,
    )

    assert (result.ok, result.scheme) == (True, "basic")


def test_it_honours_an_explicit_http_scheme(registry_server: RunningRegistry) -> None:
    # The registry only speaks TLS; a plain-HTTP request gets Go's "400 Bad Request" answer,
    # which shows the http:// in the server string was obeyed.
    error = refused(
        server=f"http://{registry_server.host}",
        username=registry_server.username,
        password=registry_server.password,
    )

    assert error.message == f"{registry_server.host} refused the request (HTTP 400)."


def test_it_refuses_an_unreadable_ca(registry_server: RunningRegistry) -> None:
    error = refused(
        server=registry_server.host,
        username=registry_server.username,
        password=registry_server.password,
        ca_pem="-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n",
    )

    assert error.permanent is True
    assert error.message == "The registry CA certificate could not be read."


def test_it_says_when_credentials_were_not_checked(open_registry_server: RunningRegistry) -> None:
    result = registry_verify(
        server=open_registry_server.host,
        username="anyone",
        password="anything",
        ca_pem=open_registry_server.ca_pem,
    )

    assert result == VerificationResult(
        ok=True,
        message=(
            f"The registry {open_registry_server.host} answered without asking for credentials; "
            "the username and password were not checked."
        ),
        scheme="none",
    )


# --- Network failures ------------------------------------------------------------------------


def test_it_reports_a_refused_connection_as_temporary() -> None:
    host = f"127.0.0.1:{closed_port()}"

    error = refused(server=host, username="u", password="p")

    assert error.permanent is False
    assert error.message == f"{host} refused the connection."


def test_it_reports_an_unknown_host_name_as_temporary() -> None:
    # .invalid is reserved (RFC 2606) and never resolves.
    error = refused(server="registry.regcred.invalid", username="u", password="p")

    assert error.permanent is False
    assert error.message == "The host name of registry.regcred.invalid could not be resolved."


def test_it_gives_up_on_a_registry_that_does_not_answer(
    bearer_registry: BearerRegistry, settings: Any
) -> None:
    settings.REGCRED_REGISTRY_TIMEOUT = 0.3
    bearer_registry.state.mode = "stall"

    error = refused(
        server=bearer_registry.host, username="u", password="p", ca_pem=bearer_registry.ca_pem
    )

    assert error.permanent is False
    assert error.message == f"{bearer_registry.host} did not answer within 0.3 seconds."


@pytest.mark.parametrize(
    "server",
    [
        "169.254.169.254",
        "http://169.254.169.254/latest/meta-data/",
        "metadata.google.internal",
        "https://metadata.tencentyun.com",
        "[fe80::1]:5000",
        "2852039166",
    ],
)
def test_it_refuses_link_local_and_metadata_hosts(server: str) -> None:
    error = refused(server=server, username="u", password="p")

    assert error.permanent is True
    assert "metadata" in error.message or "unusual form" in error.message


@pytest.mark.parametrize("server", ["", "  ", "https://"])
def test_it_refuses_an_empty_server(server: str) -> None:
    error = refused(server=server, username="u", password="p")

    assert error.permanent is True


# --- Bearer tokens ------------------------------------------------------------------------------


def verify_bearer(fake: BearerRegistry, **overrides: Any) -> VerificationResult:
    """Verify against the fake registry with its right credentials unless overridden."""
    kwargs = {
        "server": fake.host,
        "username": fake.username,
        "password": fake.password,
        "ca_pem": fake.ca_pem,
        **overrides,
    }
    return registry_verify(**kwargs)


def test_it_logs_in_with_a_bearer_token(bearer_registry: BearerRegistry) -> None:
    result = verify_bearer(bearer_registry)

    assert result == VerificationResult(
        ok=True,
        message=f"The registry {bearer_registry.host} accepted the credentials (token login).",
        scheme="bearer",
    )
    [token_request] = bearer_registry.token_service.requests
    assert token_request == {
        "query": {"service": "fake-registry", "scope": "repository:team/app:pull,push"},
        "username": "ci-bot",
    }
    [issued] = bearer_registry.token_service.issued
    # The registry itself never saw the password: an anonymous probe, then the token.
    assert bearer_registry.state.authorizations == ["", f"Bearer {issued}"]


def test_it_reads_an_access_token_too(bearer_registry: BearerRegistry) -> None:
    bearer_registry.token_service.answer = "access_token"

    assert verify_bearer(bearer_registry).scheme == "bearer"


def test_it_refuses_a_password_the_token_service_refuses(bearer_registry: BearerRegistry) -> None:
    with pytest.raises(RegistryError) as caught:
        verify_bearer(bearer_registry, password="wrong")

    assert caught.value.permanent is True
    assert caught.value.message == (
        f"The token service of {bearer_registry.host} ({bearer_registry.tokens.host.split(':')[0]})"
        " refused the username or password."
    )
    assert bearer_registry.token_service.issued == set()


def test_it_reports_a_failing_token_service_as_temporary(bearer_registry: BearerRegistry) -> None:
    bearer_registry.token_service.answer = "error"

    with pytest.raises(RegistryError) as caught:
        verify_bearer(bearer_registry)

    assert caught.value.permanent is False
    assert caught.value.message == "127.0.0.1 is having trouble (HTTP 503); try again later."


def test_it_reports_a_token_service_that_gives_no_token(bearer_registry: BearerRegistry) -> None:
    bearer_registry.token_service.answer = "garbage"

    with pytest.raises(RegistryError) as caught:
        verify_bearer(bearer_registry)

    assert caught.value.permanent is False
    assert caught.value.message.endswith("answered without a token.")


def test_it_reports_a_registry_that_refuses_its_own_tokens(
    bearer_registry: BearerRegistry,
) -> None:
    bearer_registry.state.mode = "reject-tokens"

    with pytest.raises(RegistryError) as caught:
        verify_bearer(bearer_registry)

    assert caught.value.permanent is True
    assert "refused the token its own token service issued" in caught.value.message
    assert len(bearer_registry.token_service.issued) == 1


@pytest.mark.parametrize(
    "realm", ["http://169.254.169.254/token", "https://metadata.google.internal/token"]
)
def test_it_refuses_a_token_realm_on_a_metadata_address(
    bearer_registry: BearerRegistry, realm: str
) -> None:
    bearer_registry.state.challenge = f'Bearer realm="{realm}",service="fake-registry"'

    with pytest.raises(RegistryError) as caught:
        verify_bearer(bearer_registry)

    assert caught.value.permanent is True
    assert "metadata" in caught.value.message


def test_it_refuses_a_token_realm_that_is_not_a_url(bearer_registry: BearerRegistry) -> None:
    bearer_registry.state.challenge = 'Bearer realm="/token",service="fake-registry"'

    with pytest.raises(RegistryError) as caught:
        verify_bearer(bearer_registry)

    assert caught.value.permanent is True
    assert caught.value.message == (
        f"The registry {bearer_registry.host} points to a token service with an unusable "
        'address "/token".'
    )


# --- Odd registry answers --------------------------------------------------------------------


@pytest.mark.parametrize(("status", "permanent"), [(500, False), (503, False), (429, False)])
def test_it_reports_registry_trouble_as_temporary(
    bearer_registry: BearerRegistry, status: int, permanent: bool
) -> None:
    bearer_registry.state.mode = "status"
    bearer_registry.state.status = status

    with pytest.raises(RegistryError) as caught:
        verify_bearer(bearer_registry)

    assert caught.value.permanent is permanent
    assert caught.value.message == (
        f"{bearer_registry.host} is having trouble (HTTP {status}); try again later."
    )


def test_it_says_when_a_host_is_not_a_registry(bearer_registry: BearerRegistry) -> None:
    bearer_registry.state.mode = "status"
    bearer_registry.state.status = 404

    with pytest.raises(RegistryError) as caught:
        verify_bearer(bearer_registry)

    assert caught.value.permanent is True
    assert caught.value.message == (
        f"{bearer_registry.host} does not look like a container registry (no /v2/ endpoint)."
    )


def test_it_does_not_follow_redirects(bearer_registry: BearerRegistry) -> None:
    bearer_registry.state.mode = "redirect"

    with pytest.raises(RegistryError) as caught:
        verify_bearer(bearer_registry)

    assert caught.value.permanent is True
    assert "redirect to http://169.254.169.254/latest/meta-data/" in caught.value.message
    assert len(bearer_registry.state.authorizations) == 1


def test_it_refuses_authentication_methods_it_does_not_speak(
    bearer_registry: BearerRegistry,
) -> None:
    bearer_registry.state.mode = "negotiate"

    with pytest.raises(RegistryError) as caught:
        verify_bearer(bearer_registry)

    assert caught.value.permanent is True
    assert caught.value.message == (
        f"The registry {bearer_registry.host} asks for an authentication method this dashboard "
        "does not support (negotiate)."
    )


# --- WWW-Authenticate parsing --------------------------------------------------------------------


def test_it_parses_a_bearer_challenge_with_commas_in_quotes() -> None:
    header = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:samalba/my-app:pull,push"'
    )

    assert parse_www_authenticate(header) == {
        "bearer": {
            "realm": "https://auth.docker.io/token",
            "service": "registry.docker.io",
            "scope": "repository:samalba/my-app:pull,push",
        }
    }


def test_it_parses_several_challenges_and_escapes() -> None:
    header = (
        'Negotiate abc123==, BASIC Realm="a \\"quoted\\" realm, with comma" , '
        "Bearer realm=https://t.example.com/token, service = reg"
    )

    assert parse_www_authenticate(header) == {
        "negotiate": {},
        "basic": {"realm": 'a "quoted" realm, with comma'},
        "bearer": {"realm": "https://t.example.com/token", "service": "reg"},
    }


def test_it_parses_an_empty_header() -> None:
    assert parse_www_authenticate("") == {}
