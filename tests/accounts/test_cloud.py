"""accounts.cloud through the real TKE SDK, over HTTP, against the fake TKE endpoint."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml

from accounts.cloud import (
    TkeCluster,
    TkeError,
    tke_cluster_kubeconfig,
    tke_describe_clusters,
    tke_regions,
)
from tests.tkeapi import TkeApiServer, make_kubeconfig

ALICE_ID = "AKIDalice00000000000000000000000000"
ALICE_KEY = "alice-secret-key-0000000000000000"
REGION = "ap-guangzhou"
PUBLIC_KUBECONFIG = make_kubeconfig(
    cluster_id="cls-abc123", server="https://127.0.0.1:6443", token="public-token"
)
PRIVATE_KUBECONFIG = make_kubeconfig(
    cluster_id="cls-abc123", server="https://127.0.0.1:7443", token="private-token"
)


@pytest.fixture
def alice(tkeapi: TkeApiServer) -> TkeApiServer:
    """Alice's account with one cluster whose two endpoints are both enabled."""
    tkeapi.add_account(ALICE_ID, ALICE_KEY, regions=(REGION, "ap-shanghai"))
    tkeapi.add_cluster(
        ALICE_ID,
        REGION,
        "cls-abc123",
        name="prod",
        version="1.30.0",
        kubeconfig_private=PRIVATE_KUBECONFIG,
        kubeconfig_public=PUBLIC_KUBECONFIG,
    )
    return tkeapi


def clusters(**overrides: object) -> list[TkeCluster]:
    kwargs: dict = {"secret_id": ALICE_ID, "secret_key": ALICE_KEY, "region": REGION}
    kwargs.update(overrides)
    return tke_describe_clusters(**kwargs)


def kubeconfig(**overrides: object) -> str:
    kwargs: dict = {
        "secret_id": ALICE_ID,
        "secret_key": ALICE_KEY,
        "region": REGION,
        "cluster_id": "cls-abc123",
        "extranet": True,
    }
    kwargs.update(overrides)
    return tke_cluster_kubeconfig(**kwargs)


def refused(call, **overrides: object) -> TkeError:
    with pytest.raises(TkeError) as raised:
        call(**overrides)
    assert ALICE_KEY not in raised.value.message
    assert ALICE_KEY not in str(raised.value)
    return raised.value


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def answering(status: int, body: bytes, content_type: str) -> Iterator[str]:
    """A server that is not the Tencent Cloud API: every POST gets the same answer."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


# -- listing clusters -------------------------------------------------------------------------


def test_it_lists_the_clusters_of_the_region(alice: TkeApiServer) -> None:
    alice.add_cluster(ALICE_ID, REGION, "cls-def456", name="staging", version="1.28.3")
    alice.add_cluster(ALICE_ID, "ap-shanghai", "cls-sh0001", name="elsewhere")

    assert clusters() == [
        TkeCluster("cls-abc123", "prod", "1.30.0", "Running", REGION),
        TkeCluster("cls-def456", "staging", "1.28.3", "Running", REGION),
    ]
    assert [(r.action, r.region, r.secret_id, r.ok) for r in alice.requests] == [
        ("DescribeClusters", REGION, ALICE_ID, True)
    ]


def test_it_pages_through_more_clusters_than_one_answer_holds(alice: TkeApiServer) -> None:
    for n in range(1, 250):
        alice.add_cluster(ALICE_ID, REGION, f"cls-{n:06d}", status="Creating")

    found = clusters()

    assert len(found) == 250
    assert len({c.cluster_id for c in found}) == 250
    assert [(r.params["Offset"], r.params["Limit"]) for r in alice.requests] == [
        (0, 100),
        (100, 100),
        (200, 100),
    ]


def test_it_lists_only_the_clusters_asked_for(alice: TkeApiServer) -> None:
    alice.add_cluster(ALICE_ID, REGION, "cls-def456", name="staging")

    found = clusters(cluster_ids=["cls-def456", "cls-gone00"])

    assert [c.cluster_id for c in found] == ["cls-def456"]
    assert alice.requests[0].params["ClusterIds"] == ["cls-def456", "cls-gone00"]


def test_an_empty_id_filter_lists_nothing_without_asking_tke(alice: TkeApiServer) -> None:
    assert clusters(cluster_ids=[]) == []
    assert alice.requests == []


def test_a_region_without_clusters_lists_none(alice: TkeApiServer) -> None:
    assert clusters(region="ap-shanghai") == []


# -- kubeconfig -------------------------------------------------------------------------------


def test_it_fetches_the_kubeconfig_of_the_public_endpoint(alice: TkeApiServer) -> None:
    assert kubeconfig(extranet=True) == PUBLIC_KUBECONFIG
    assert alice.requests[0].params == {"ClusterId": "cls-abc123", "IsExtranet": True}


def test_it_fetches_the_kubeconfig_of_the_private_endpoint(alice: TkeApiServer) -> None:
    assert kubeconfig(extranet=False) == PRIVATE_KUBECONFIG
    assert alice.requests[0].params == {"ClusterId": "cls-abc123", "IsExtranet": False}


@pytest.mark.parametrize(
    ("extranet", "kind", "other"), [(True, "public", "private"), (False, "private", "public")]
)
def test_an_endpoint_not_enabled_is_refused_in_plain_words(
    tkeapi: TkeApiServer, extranet: bool, kind: str, other: str
) -> None:
    tkeapi.add_account(ALICE_ID, ALICE_KEY)
    tkeapi.add_cluster(ALICE_ID, REGION, "cls-abc123")

    error = refused(kubeconfig, extranet=extranet)

    assert error.permanent
    assert error.code == ""
    assert f"The {kind} endpoint of TKE cluster cls-abc123 is not enabled" in error.message
    assert "TKE console" in error.message
    assert f"choose the {other} endpoint instead" in error.message
    assert [r.action for r in tkeapi.requests] == [
        "DescribeClusterKubeconfig",
        "DescribeClusterEndpoints",
    ]


def test_an_enabled_endpoint_whose_domain_is_not_in_dns_is_reached_by_address(
    tkeapi: TkeApiServer,
) -> None:
    tkeapi.add_account(ALICE_ID, ALICE_KEY)
    tkeapi.add_cluster(
        ALICE_ID,
        REGION,
        "cls-abc123",
        kubeconfig_public=make_kubeconfig(
            cluster_id="cls-abc123",
            server="https://cls-abc123.ccs.tencent-cloud.invalid",
            token="public-token",
        ),
        public_address="127.0.0.1:6443",
    )

    config = yaml.safe_load(kubeconfig(extranet=True))

    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"] == "https://127.0.0.1:6443"
    assert cluster["tls-server-name"] == "cls-abc123.ccs.tencent-cloud.invalid"
    assert config["users"][0]["user"] == {"token": "public-token"}


# -- refusals ---------------------------------------------------------------------------------


def test_a_wrong_secret_key_is_a_permanent_signature_failure(alice: TkeApiServer) -> None:
    error = refused(clusters, secret_key="not-alices-key")

    assert error.code == "AuthFailure.SignatureFailure"
    assert error.permanent
    assert "SecretKey" in error.message
    assert error.request_id


def test_an_unknown_secret_id_is_permanent(alice: TkeApiServer) -> None:
    error = refused(kubeconfig, secret_id="AKIDnobody")

    assert error.code == "AuthFailure.SecretIdNotFound"
    assert error.permanent
    assert "does not know this SecretId" in error.message


@pytest.mark.parametrize(
    "code", ["ResourceNotFound.ClusterNotFound", "InvalidParameter.ClusterNotFound"]
)
def test_an_unknown_cluster_is_permanent_and_named(alice: TkeApiServer, code: str) -> None:
    alice.cluster_not_found_code = code

    error = refused(kubeconfig, cluster_id="cls-gone00")

    assert error.code == code
    assert error.permanent
    assert error.message == "TKE cluster cls-gone00 does not exist in region ap-guangzhou."


def test_an_old_style_internal_cluster_not_found_is_still_permanent(alice: TkeApiServer) -> None:
    alice.inject_error("InternalError.ClusterNotFound", "cluster not found")

    error = refused(kubeconfig)

    assert error.code == "InternalError.ClusterNotFound"
    assert error.permanent


def test_a_region_tke_does_not_offer_is_permanent(alice: TkeApiServer) -> None:
    error = refused(clusters, region="eu-frankfurt")

    assert error.code == "UnsupportedRegion"
    assert error.permanent
    assert "eu-frankfurt" in error.message


def test_a_clock_more_than_five_minutes_off_is_explained(alice: TkeApiServer) -> None:
    alice.clock_offset = -900

    error = refused(clusters)

    assert error.code == "AuthFailure.SignatureExpire"
    assert "clock" in error.message


def test_missing_cam_permissions_are_permanent(alice: TkeApiServer) -> None:
    alice.inject_error("UnauthorizedOperation.CamNoAuth", "no permission for tke:DescribeClusters")

    error = refused(clusters)

    assert error.permanent
    assert "CAM" in error.message


@pytest.mark.parametrize(
    "code", ["InternalError", "InternalError.UnexpectedInternal", "RequestLimitExceeded"]
)
def test_tencents_own_trouble_and_throttling_are_transient(alice: TkeApiServer, code: str) -> None:
    alice.inject_error(code)

    error = refused(clusters)

    assert error.code == code
    assert not error.permanent


def test_a_retry_after_a_transient_error_succeeds(alice: TkeApiServer) -> None:
    alice.inject_error("RequestLimitExceeded")

    refused(clusters)

    assert [c.cluster_id for c in clusters()] == ["cls-abc123"]


def test_an_unreachable_endpoint_is_transient(settings) -> None:
    settings.REGCRED_TKE_ENDPOINT = f"http://127.0.0.1:{closed_port()}"

    error = refused(clusters)

    assert not error.permanent
    assert error.code == ""
    assert "Could not reach the Tencent Cloud API" in error.message
    assert "refused" in error.message


def test_an_http_error_from_the_endpoint_is_transient(settings) -> None:
    with answering(502, b"<html>Bad Gateway</html>", "text/html") as url:
        settings.REGCRED_TKE_ENDPOINT = url
        error = refused(clusters)

    assert not error.permanent
    assert "HTTP error" in error.message
    assert "Bad Gateway" not in error.message


def test_an_answer_that_is_not_the_tencent_api_is_reported(settings) -> None:
    with answering(200, b"<html>Welcome to nginx</html>", "text/html") as url:
        settings.REGCRED_TKE_ENDPOINT = url
        error = refused(clusters)

    assert not error.permanent
    assert "could not be read" in error.message


def test_an_endpoint_setting_that_is_not_a_url_is_permanent(settings) -> None:
    settings.REGCRED_TKE_ENDPOINT = "tke.tencentcloudapi.com"

    error = refused(clusters)

    assert error.permanent
    assert "REGCRED_TKE_ENDPOINT" in error.message


@pytest.mark.parametrize("secret_key", ["", " padded-key "])
def test_a_blank_or_padded_key_is_refused_before_calling_tke(
    alice: TkeApiServer, secret_key: str
) -> None:
    error = refused(clusters, secret_key=secret_key)

    assert error.permanent
    assert alice.requests == []


# -- regions ----------------------------------------------------------------------------------


def test_tke_regions_offers_common_regions_with_names() -> None:
    regions = dict(tke_regions())

    for code in ("ap-guangzhou", "ap-shanghai", "ap-beijing", "ap-singapore", "na-ashburn"):
        assert regions[code]
    assert len(regions) == len(tke_regions())
    assert "eu-frankfurt" in regions
