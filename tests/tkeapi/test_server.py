"""The fake TKE API itself: it must refuse what Tencent Cloud refuses and answer like it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import time
import uuid
import warnings
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.tke.v20180525 import models
from tencentcloud.tke.v20180525.tke_client import TkeClient

from tests.tkeapi.server import TkeApiServer, make_kubeconfig

ALICE_ID = "AKIDalice00000000000000000000000000"
ALICE_KEY = "alice-secret-key-0000000000000000"
REGION = "ap-guangzhou"


@pytest.fixture
def fake(tkeapi: TkeApiServer) -> TkeApiServer:
    tkeapi.add_account(ALICE_ID, ALICE_KEY, regions=(REGION, "ap-shanghai"))
    return tkeapi


def sdk_client(
    fake: TkeApiServer,
    *,
    secret_id: str = ALICE_ID,
    secret_key: str = ALICE_KEY,
    region: str = REGION,
    method: str = "POST",
) -> TkeClient:
    """The real SDK client, pointed at the fake over plain HTTP."""
    http_profile = HttpProfile(
        protocol="http", endpoint=urlsplit(fake.url).netloc, reqMethod=method, reqTimeout=5
    )
    profile = ClientProfile(httpProfile=http_profile, language="en-US")
    return TkeClient(Credential(secret_id, secret_key), region, profile)


def sdk_error(call: Any, request: Any) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as raised:
        call(request)
    return raised.value


def hand_signed(
    fake: TkeApiServer,
    params: dict[str, Any],
    *,
    action: str = "DescribeClusters",
    secret_id: str = ALICE_ID,
    secret_key: str = ALICE_KEY,
    region: str = REGION,
    version: str = "2018-05-25",
    timestamp: int | None = None,
    service: str = "tke",
    sent_body: bytes | None = None,
    authorization: str | None = None,
) -> tuple[http.client.HTTPResponse, dict[str, Any]]:
    """POST ``params`` signed by this test's own TC3-HMAC-SHA256 code, written from the spec.

    Independent of the fake's signing code, so the two cannot share a mistake. ``sent_body``
    replaces the body after signing (tampering).
    """
    host = urlsplit(fake.url).netloc
    body = json.dumps(params).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical_request = (
        f"POST\n/\n\ncontent-type:application/json\nhost:{host}\n\ncontent-type;host\n"
        f"{hashlib.sha256(body).hexdigest()}"
    )
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = (
        f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n"
        f"{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    )
    key = f"TC3{secret_key}".encode()
    for part in (date, service, "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "Host": host,
        "X-TC-Action": action,
        "X-TC-Version": version,
        "X-TC-Timestamp": str(timestamp),
        "X-TC-Region": region,
        "Authorization": authorization
        if authorization is not None
        else f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
        f"SignedHeaders=content-type;host, Signature={signature}",
    }
    connection = http.client.HTTPConnection(host, timeout=5)
    try:
        connection.request(
            "POST", "/", body=body if sent_body is None else sent_body, headers=headers
        )
        response = connection.getresponse()
        payload = json.loads(response.read())
    finally:
        connection.close()
    return response, payload["Response"]


def error_code(answer: dict[str, Any]) -> str:
    return answer["Error"]["Code"]


# -- signatures -------------------------------------------------------------------------------


def test_it_accepts_a_request_signed_by_the_sdk(fake: TkeApiServer) -> None:
    response = sdk_client(fake).DescribeClusters(models.DescribeClustersRequest())

    assert response.TotalCount == 0
    assert [(r.action, r.region, r.secret_id, r.ok) for r in fake.requests] == [
        ("DescribeClusters", REGION, ALICE_ID, True)
    ]


def test_it_accepts_a_get_request_signed_over_its_query_string(fake: TkeApiServer) -> None:
    fake.add_cluster(ALICE_ID, REGION, "cls-one")
    fake.add_cluster(ALICE_ID, REGION, "cls-two")
    request = models.DescribeClustersRequest()
    request.ClusterIds = ["cls-two"]

    response = sdk_client(fake, method="GET").DescribeClusters(request)

    assert [c.ClusterId for c in response.Clusters] == ["cls-two"]


def test_it_accepts_a_request_signed_by_hand_from_the_spec(fake: TkeApiServer) -> None:
    response, answer = hand_signed(fake, {"Limit": 10})

    assert response.status == 200
    assert answer["TotalCount"] == 0
    assert "Error" not in answer


def test_it_refuses_a_body_changed_after_signing(fake: TkeApiServer) -> None:
    _, answer = hand_signed(fake, {"Limit": 10}, sent_body=json.dumps({"Limit": 11}).encode())

    assert error_code(answer) == "AuthFailure.SignatureFailure"
    assert not fake.requests[-1].ok


def test_it_refuses_a_wrong_secret_key(fake: TkeApiServer) -> None:
    client = sdk_client(fake, secret_key="not-alices-key")

    error = sdk_error(client.DescribeClusters, models.DescribeClustersRequest())

    assert error.code == "AuthFailure.SignatureFailure"
    assert fake.requests[-1].secret_id == ALICE_ID
    assert fake.requests[-1].error_code == "AuthFailure.SignatureFailure"


def test_it_refuses_an_unknown_secret_id(fake: TkeApiServer) -> None:
    client = sdk_client(fake, secret_id="AKIDnobody", secret_key=ALICE_KEY)

    error = sdk_error(client.DescribeClusters, models.DescribeClustersRequest())

    assert error.code == "AuthFailure.SecretIdNotFound"
    assert error.message.startswith("The SecretId is not found")


def test_it_refuses_a_timestamp_older_than_five_minutes(fake: TkeApiServer) -> None:
    _, answer = hand_signed(fake, {}, timestamp=int(time.time()) - 301)

    assert error_code(answer) == "AuthFailure.SignatureExpire"


def test_it_refuses_a_timestamp_from_the_future(fake: TkeApiServer) -> None:
    _, answer = hand_signed(fake, {}, timestamp=int(time.time()) + 400)

    assert error_code(answer) == "AuthFailure.SignatureExpire"


def test_it_accepts_a_timestamp_a_little_off(fake: TkeApiServer) -> None:
    _, answer = hand_signed(fake, {}, timestamp=int(time.time()) - 200)

    assert "Error" not in answer


def test_it_refuses_sdk_requests_when_the_clocks_differ(fake: TkeApiServer) -> None:
    fake.clock_offset = 600

    error = sdk_error(sdk_client(fake).DescribeClusters, models.DescribeClustersRequest())

    assert error.code == "AuthFailure.SignatureExpire"


def test_it_refuses_a_signature_scoped_to_another_service(fake: TkeApiServer) -> None:
    _, answer = hand_signed(fake, {}, service="cvm")

    assert error_code(answer) == "AuthFailure.SignatureFailure"


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Basic YWxpY2U6c2VjcmV0",
        f"TC3-HMAC-SHA256 Credential={ALICE_ID}/2024-01-01/tke/tc3_request, "
        "SignedHeaders=host, Signature=00",
    ],
)
def test_it_refuses_a_malformed_authorization_header(
    fake: TkeApiServer, authorization: str
) -> None:
    _, answer = hand_signed(fake, {}, authorization=authorization)

    assert error_code(answer) == "AuthFailure.InvalidAuthorization"


# -- envelope, action, version, region --------------------------------------------------------


def test_it_answers_errors_with_http_200_in_tencents_envelope(fake: TkeApiServer) -> None:
    response, answer = hand_signed(fake, {}, secret_key="wrong")

    assert response.status == 200
    # Exactly this type: the SDK only reads Response.Error under it.
    assert response.getheader("Content-Type") == "application/json"
    assert set(answer) == {"Error", "RequestId"}
    assert set(answer["Error"]) == {"Code", "Message"}
    uuid.UUID(answer["RequestId"])


def test_it_refuses_an_unknown_action(fake: TkeApiServer) -> None:
    _, answer = hand_signed(fake, {}, action="DescribeEverything")

    assert error_code(answer) == "InvalidAction"


def test_it_refuses_another_api_version(fake: TkeApiServer) -> None:
    _, answer = hand_signed(fake, {}, version="2018-03-25")

    assert error_code(answer) == "NoSuchVersion"


def test_it_refuses_a_region_the_account_does_not_have(fake: TkeApiServer) -> None:
    error = sdk_error(
        sdk_client(fake, region="eu-frankfurt").DescribeClusters,
        models.DescribeClustersRequest(),
    )

    assert error.code == "UnsupportedRegion"


def test_it_refuses_a_region_that_is_not_a_region_code(fake: TkeApiServer) -> None:
    _, answer = hand_signed(fake, {}, region="Guangzhou!")

    assert error_code(answer) == "InvalidParameterValue"


def test_it_refuses_a_request_without_a_region(fake: TkeApiServer) -> None:
    error = sdk_error(
        sdk_client(fake, region="").DescribeClusters, models.DescribeClustersRequest()
    )

    assert error.code == "MissingParameter"


def test_it_refuses_parameters_the_action_does_not_have(fake: TkeApiServer) -> None:
    _, answer = hand_signed(fake, {"ClusterId": "cls-abc123"})

    assert error_code(answer) == "UnknownParameter"


# -- DescribeClusters -------------------------------------------------------------------------


def test_it_pages_clusters_with_offset_and_limit(fake: TkeApiServer) -> None:
    for n in range(5):
        fake.add_cluster(ALICE_ID, REGION, f"cls-{n:06d}", name=f"c{n}")

    _, answer = hand_signed(fake, {"Offset": 2, "Limit": 2})

    assert answer["TotalCount"] == 5
    assert [c["ClusterId"] for c in answer["Clusters"]] == ["cls-000002", "cls-000003"]


def test_it_lists_twenty_clusters_when_no_limit_is_given(fake: TkeApiServer) -> None:
    for n in range(25):
        fake.add_cluster(ALICE_ID, REGION, f"cls-{n:06d}")

    _, answer = hand_signed(fake, {})

    assert len(answer["Clusters"]) == 20
    assert answer["TotalCount"] == 25


def test_it_refuses_a_limit_above_one_hundred(fake: TkeApiServer) -> None:
    _, answer = hand_signed(fake, {"Limit": 101})

    assert error_code(answer) == "InvalidParameter.Param"


def test_it_answers_unknown_cluster_ids_with_an_empty_list(fake: TkeApiServer) -> None:
    fake.add_cluster(ALICE_ID, REGION, "cls-abc123")

    _, answer = hand_signed(fake, {"ClusterIds": ["cls-nope"]})

    assert answer["TotalCount"] == 0
    assert answer["Clusters"] == []


def test_it_keeps_each_region_and_account_to_its_own_clusters(fake: TkeApiServer) -> None:
    fake.add_account("AKIDbob", "bob-key", regions=(REGION,), uin="100099999999")
    fake.add_cluster(ALICE_ID, "ap-shanghai", "cls-shanghai")
    fake.add_cluster("AKIDbob", REGION, "cls-bob")

    _, answer = hand_signed(fake, {})

    assert answer["Clusters"] == []


def test_its_clusters_carry_only_fields_the_sdk_model_knows(fake: TkeApiServer) -> None:
    fake.add_cluster(ALICE_ID, REGION, "cls-abc123", name="prod", version="1.30.0")
    _, answer = hand_signed(fake, {})

    cluster = models.Cluster()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cluster._deserialize(answer["Clusters"][0])

    assert [str(w.message) for w in caught] == []
    assert (cluster.ClusterId, cluster.ClusterName, cluster.ClusterVersion) == (
        "cls-abc123",
        "prod",
        "1.30.0",
    )
    assert cluster.ClusterStatus == "Running"
    assert cluster.ClusterType == "MANAGED_CLUSTER"


# -- kubeconfig and endpoints -----------------------------------------------------------------


def test_it_returns_the_kubeconfig_of_an_enabled_endpoint(fake: TkeApiServer) -> None:
    kubeconfig = make_kubeconfig(cluster_id="cls-abc123", server="https://127.0.0.1:6443")
    fake.add_cluster(ALICE_ID, REGION, "cls-abc123", kubeconfig_public=kubeconfig)

    _, answer = hand_signed(
        fake,
        {"ClusterId": "cls-abc123", "IsExtranet": True},
        action="DescribeClusterKubeconfig",
    )

    assert answer["Kubeconfig"] == kubeconfig


def test_it_returns_a_default_domain_kubeconfig_for_an_endpoint_not_enabled(
    fake: TkeApiServer,
) -> None:
    fake.add_cluster(ALICE_ID, REGION, "cls-abc123")

    _, answer = hand_signed(fake, {"ClusterId": "cls-abc123"}, action="DescribeClusterKubeconfig")

    assert "server: https://cls-abc123.ccs.tencent-cloud.invalid\n" in answer["Kubeconfig"]


@pytest.mark.parametrize(
    "code", ["ResourceNotFound.ClusterNotFound", "InvalidParameter.ClusterNotFound"]
)
def test_it_answers_an_unknown_cluster_with_the_configured_not_found_code(
    fake: TkeApiServer, code: str
) -> None:
    fake.cluster_not_found_code = code

    _, answer = hand_signed(fake, {"ClusterId": "cls-nope"}, action="DescribeClusterKubeconfig")

    assert error_code(answer) == code


def test_it_reports_which_endpoints_are_enabled(fake: TkeApiServer) -> None:
    kubeconfig = make_kubeconfig(cluster_id="cls-abc123", server="https://10.0.0.7:443")
    fake.add_cluster(ALICE_ID, REGION, "cls-abc123", kubeconfig_private=kubeconfig)
    client = sdk_client(fake)

    request = models.DescribeClusterEndpointsRequest()
    request.ClusterId = "cls-abc123"
    endpoints = client.DescribeClusterEndpoints(request)
    status = models.DescribeClusterEndpointStatusRequest()
    status.ClusterId = "cls-abc123"
    status.IsExtranet = True

    assert endpoints.ClusterIntranetEndpoint == "10.0.0.7:443"
    assert endpoints.ClusterExternalEndpoint == ""
    assert endpoints.ClusterExternalDomain == "cls-abc123.ccs.tencent-cloud.invalid"
    assert client.DescribeClusterEndpointStatus(status).Status == "NotFound"


# -- test controls ----------------------------------------------------------------------------


def test_an_injected_error_answers_only_the_next_matching_call(fake: TkeApiServer) -> None:
    fake.inject_error("InternalError", action="DescribeClusters")
    client = sdk_client(fake)

    error = sdk_error(client.DescribeClusters, models.DescribeClustersRequest())
    client.DescribeClusters(models.DescribeClustersRequest())

    assert error.code == "InternalError"
    assert [r.error_code for r in fake.requests] == ["InternalError", None]


def test_it_records_requests_without_the_secret_key(fake: TkeApiServer) -> None:
    hand_signed(fake, {"Limit": 5})
    hand_signed(fake, {}, secret_key="wrong")

    assert ALICE_KEY not in repr(fake.requests)
    assert fake.requests[0].params == {"Limit": 5}


def test_reset_forgets_accounts_clusters_and_requests(fake: TkeApiServer) -> None:
    fake.add_cluster(ALICE_ID, REGION, "cls-abc123")
    fake.clock_offset = 999
    hand_signed(fake, {})

    fake.reset()
    _, answer = hand_signed(fake, {})

    assert error_code(answer) == "AuthFailure.SecretIdNotFound"
    assert [r.error_code for r in fake.requests] == ["AuthFailure.SecretIdNotFound"]


def test_it_refuses_a_cluster_in_a_region_the_account_does_not_have(
    fake: TkeApiServer,
) -> None:
    with pytest.raises(ValueError, match="no region"):
        fake.add_cluster(ALICE_ID, "eu-frankfurt", "cls-abc123")


def test_its_kubeconfigs_carry_certificates_that_parse() -> None:
    config = yaml.safe_load(make_kubeconfig(cluster_id="cls-abc123", server="https://a.invalid"))

    ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"])
    client = base64.b64decode(config["users"][0]["user"]["client-certificate-data"])
    key = base64.b64decode(config["users"][0]["user"]["client-key-data"])
    assert (
        x509.load_pem_x509_certificate(ca).subject != x509.load_pem_x509_certificate(client).subject
    )
    assert serialization.load_pem_private_key(key, password=None)
