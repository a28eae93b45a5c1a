"""A strict fake of the Tencent Cloud TKE API (tke.tencentcloudapi.com, version 2018-05-25).

It speaks plain HTTP on 127.0.0.1 to the real ``tencentcloud-sdk-python`` client and checks every
request the way the real gateway does: the TC3-HMAC-SHA256 signature is recomputed with the
SecretKey registered for the SecretId, the timestamp may be at most five minutes off, and
``X-TC-Action``, ``X-TC-Version`` and ``X-TC-Region`` must be valid. Answers use Tencent's
envelope, ``{"Response": {..., "RequestId": "<uuid>"}}``, and errors come back with HTTP 200 as
``{"Response": {"Error": {"Code": ..., "Message": ...}, "RequestId": ...}}``.

Sources for the behaviour reproduced here:
- Signature: the TC3-HMAC-SHA256 algorithm ("Signature v3" page of the API 3.0 docs) and the
  SDK's own ``AbstractClient._get_tc3_signature``.
- Common error codes and their messages: the API 3.0 "Error Codes" page
  (``AuthFailure.SecretIdNotFound``, ``AuthFailure.SignatureFailure``,
  ``AuthFailure.SignatureExpire``, ``AuthFailure.InvalidAuthorization``, ``InvalidAction``,
  ``NoSuchVersion``, ``MissingParameter``, ``UnknownParameter``, ``InvalidParameterValue``,
  ``UnsupportedRegion``), with the message texts real responses carry.
- Per-action codes: the "可能返回的错误码" lists of tencentcloud-sdk-go ``tke/v20180525``;
  ``DescribeClusterKubeconfig`` documents both ``ResourceNotFound.ClusterNotFound`` and
  ``InvalidParameter.ClusterNotFound`` (see ``cluster_not_found_code``); ``DescribeClusters``
  documents no not-found code: unknown ``ClusterIds`` simply match nothing.
- ``DescribeClusterKubeconfig`` for an endpoint that is not enabled still answers, with a
  kubeconfig whose server is the cluster's default domain, which does not resolve (API doc of
  ``Kubeconfig``: "没开内网的情况下server会是一个默认域名 ... 默认域名默认不可达"). Real TKE
  uses ``https://<cluster id>.ccs.tencent-cloud.com``; this fake defaults to the
  ``ccs.tencent-cloud.invalid`` suffix so no test ever depends on a real DNS answer.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

API_VERSION = "2018-05-25"
SERVICE = "tke"
ALGORITHM = "TC3-HMAC-SHA256"
# The gateway's tolerance between X-TC-Timestamp and its own clock ("cannot differ by more than
# five minutes", Error Codes page).
MAX_CLOCK_SKEW_SECONDS = 300
# DescribeClusters: Limit defaults to 20 and is at most 100 (API doc of the request).
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
DEFAULT_DOMAIN = "ccs.tencent-cloud.invalid"

_REGION_SHAPE = re.compile(r"^[a-z]{2}-[a-z]+(-[a-z0-9]+)*$")
_AUTHORIZATION = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<secret_id>[^/]*)/(?P<date>[^/]*)/(?P<service>[^/]*)"
    r"/tc3_request, ?SignedHeaders=(?P<signed>[a-z0-9;\-]+), ?Signature=(?P<signature>[0-9a-f]+)$"
)

# Messages as the real API returns them (English, X-TC-Language en-US).
_MESSAGES = {
    "AuthFailure.InvalidAuthorization": "Authorization in the request header is invalid.",
    "AuthFailure.SecretIdNotFound": (
        "The SecretId is not found, please ensure that your SecretId is correct."
    ),
    "AuthFailure.SignatureExpire": "The signature is expired, please request again.",
    "AuthFailure.SignatureFailure": (
        "The provided credentials could not be validated. Please check your signature is correct."
    ),
    "InvalidAction": "The request `Action` is invalid or not found.",
    "InternalError": "An internal error has occurred. Retry your request.",
    "RequestLimitExceeded": "Your current request times equals to `20` in a second, which "
    "exceeds the frequency limit `20` for a second. Please reduce the frequency of calls.",
}

# Request parameters each action accepts (the SDK models' fields); anything else is refused with
# UnknownParameter like the real gateway does.
_ACTION_PARAMS = {
    "DescribeClusters": {"ClusterIds", "Offset", "Limit", "Filters", "ClusterType"},
    "DescribeClusterKubeconfig": {"ClusterId", "IsExtranet"},
    "DescribeClusterEndpoints": {"ClusterId"},
    "DescribeClusterEndpointStatus": {"ClusterId", "IsExtranet"},
}


class ApiError(Exception):
    """An error answer: HTTP 200 with Response.Error, as Tencent Cloud sends it."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message or _MESSAGES.get(code, code)


@dataclass
class FakeAccount:
    """One API key pair of a Tencent Cloud account (its UIN owns the clusters)."""

    secret_id: str
    secret_key: str
    regions: tuple[str, ...]
    uin: str


@dataclass
class FakeCluster:
    """A TKE cluster and how its two API server endpoints look from DescribeClusterKubeconfig."""

    cluster_id: str
    name: str
    version: str
    region: str
    status: str = "Running"
    cluster_type: str = "MANAGED_CLUSTER"
    kubeconfig_private: str | None = None
    kubeconfig_public: str | None = None
    private_address: str = ""
    public_address: str = ""
    created: str = "2024-05-01T08:00:00Z"


@dataclass(frozen=True)
class RecordedRequest:
    """What the fake saw: enough for tests to assert on calls, never the SecretKey."""

    action: str
    region: str
    secret_id: str
    params: dict[str, Any]
    error_code: str | None

    @property
    def ok(self) -> bool:
        return self.error_code is None


@dataclass
class _InjectedError:
    code: str
    message: str | None
    action: str | None
    times: int


@dataclass
class _State:
    accounts: dict[str, FakeAccount] = field(default_factory=dict)
    # (uin, region) -> cluster id -> cluster, in creation order like the console lists them.
    clusters: dict[tuple[str, str], dict[str, FakeCluster]] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    injected: list[_InjectedError] = field(default_factory=list)


def make_kubeconfig(
    *,
    cluster_id: str,
    server: str,
    user: str = "100012345678",
    token: str = "",
    ca_pem: str | None = None,
) -> str:
    """Build a kubeconfig shaped like the ones TKE hands out, for ``server``.

    With ``token`` the user authenticates by bearer token (easy to serve from a fake API
    server); without it the user carries a client certificate like TKE's. Certificates are
    real (parseable) ones from a throwaway CA unless ``ca_pem`` is given.
    """
    context = f"{cluster_id}-context-default"
    tls = _demo_tls()
    user_entry: dict[str, str]
    if token:
        user_entry = {"token": token}
    else:
        user_entry = {
            "client-certificate-data": _b64(tls.client_cert_pem),
            "client-key-data": _b64(tls.client_key_pem),
        }
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster_id,
                "cluster": {
                    "certificate-authority-data": _b64(ca_pem or tls.ca_pem),
                    "server": server,
                },
            }
        ],
        "contexts": [{"name": context, "context": {"cluster": cluster_id, "user": user}}],
        "current-context": context,
        "preferences": {},
        "users": [{"name": user, "user": user_entry}],
    }
    return yaml.safe_dump(config, sort_keys=False)


def tc3_signature(
    *,
    secret_key: str,
    method: str,
    query: str,
    headers: dict[str, str],
    signed_headers: list[str],
    payload: bytes,
    timestamp: int,
    service: str = SERVICE,
) -> str:
    """Compute a TC3-HMAC-SHA256 signature from the parts of a request, per the v3 spec."""
    canonical_headers = "".join(
        f"{name}:{headers.get(name, '').strip().lower()}\n" for name in signed_headers
    )
    canonical_request = "\n".join(
        [
            method,
            "/",
            query,
            canonical_headers,
            ";".join(signed_headers),
            hashlib.sha256(payload).hexdigest(),
        ]
    )
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            str(timestamp),
            f"{date}/{service}/tc3_request",
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = _hmac(f"TC3{secret_key}".encode(), date)
    key = _hmac(key, service)
    key = _hmac(key, "tc3_request")
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


class TkeApiServer:
    """The fake endpoint: configure accounts and clusters, then point the SDK at ``url``."""

    cluster_not_found_code = "ResourceNotFound.ClusterNotFound"

    def __init__(self, *, port: int = 0, default_domain: str = DEFAULT_DOMAIN) -> None:
        self.default_domain = default_domain
        # Seconds added to the fake's clock, to make fresh SDK requests look expired.
        self.clock_offset = 0.0
        self._requested_port = port
        self._lock = threading.Lock()
        self._state = _State()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> TkeApiServer:
        """Listen on 127.0.0.1 (a free port unless one was given) in a background thread."""
        if self._httpd is not None:
            return self
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self._requested_port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="tkeapi-fake", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and release the port."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> TkeApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL for ``REGCRED_TKE_ENDPOINT``, e.g. ``http://127.0.0.1:40123``."""
        if self._httpd is None:
            raise RuntimeError("TkeApiServer is not started")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # -- configuration -----------------------------------------------------------------------

    def reset(self) -> None:
        """Forget accounts, clusters, recorded requests, injected errors and clock changes."""
        with self._lock:
            self._state = _State()
        self.clock_offset = 0.0
        self.__dict__.pop("cluster_not_found_code", None)

    def add_account(
        self,
        secret_id: str,
        secret_key: str,
        regions: tuple[str, ...] | list[str] = ("ap-guangzhou",),
        uin: str = "100012345678",
    ) -> FakeAccount:
        """Register an API key pair; keys sharing a UIN see the same clusters."""
        account = FakeAccount(secret_id, secret_key, tuple(regions), uin)
        with self._lock:
            self._state.accounts[secret_id] = account
        return account

    def add_cluster(
        self,
        secret_id: str,
        region: str,
        cluster_id: str = "cls-abc123",
        name: str = "prod",
        version: str = "1.30.0",
        kubeconfig_private: str | None = None,
        kubeconfig_public: str | None = None,
        *,
        private_address: str | None = None,
        public_address: str | None = None,
        status: str = "Running",
        cluster_type: str = "MANAGED_CLUSTER",
    ) -> FakeCluster:
        """Add a cluster to the account owning ``secret_id`` in ``region``.

        A kubeconfig of None means that endpoint is not enabled. The endpoint addresses that
        DescribeClusterEndpoints reports default to host[:port] of the kubeconfig's server; pass
        them to model an enabled endpoint whose domain is not in public DNS.
        """
        with self._lock:
            account = self._state.accounts.get(secret_id)
            if account is None:
                raise ValueError(f"add_account({secret_id!r}, ...) first")
            if region not in account.regions:
                raise ValueError(f"account {secret_id!r} has no region {region!r}")
            cluster = FakeCluster(
                cluster_id=cluster_id,
                name=name,
                version=version,
                region=region,
                status=status,
                cluster_type=cluster_type,
                kubeconfig_private=kubeconfig_private,
                kubeconfig_public=kubeconfig_public,
                private_address=_address_of(kubeconfig_private)
                if private_address is None
                else private_address,
                public_address=_address_of(kubeconfig_public)
                if public_address is None
                else public_address,
            )
            self._state.clusters.setdefault((account.uin, region), {})[cluster_id] = cluster
        return cluster

    def inject_error(
        self, code: str, message: str | None = None, *, action: str | None = None, times: int = 1
    ) -> None:
        """Answer the next ``times`` authenticated calls (of ``action``, if given) with ``code``."""
        with self._lock:
            self._state.injected.append(_InjectedError(code, message, action, times))

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since the last reset, oldest first."""
        with self._lock:
            return list(self._state.requests)

    # -- request handling --------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> dict:
        """Check one request and build the ``Response`` object to send back."""
        request_id = str(uuid.uuid4())
        action = headers.get("x-tc-action", "")
        region = headers.get("x-tc-region", "")
        # Logged as claimed, so tests can see which key a refused request used.
        match = _AUTHORIZATION.match(headers.get("authorization", ""))
        secret_id = match["secret_id"] if match else ""
        params: dict[str, Any] = {}
        try:
            account = self._authenticate(method, target, headers, body)
            params = _read_params(method, target, headers, body)
            result = self._dispatch(
                account, action, headers.get("x-tc-version", ""), region, params
            )
        except ApiError as error:
            self._record(action, region, secret_id, params, error.code)
            return {
                "Error": {"Code": error.code, "Message": error.message},
                "RequestId": request_id,
            }
        self._record(action, region, secret_id, params, None)
        return {**result, "RequestId": request_id}

    def _record(
        self, action: str, region: str, secret_id: str, params: dict, error_code: str | None
    ) -> None:
        with self._lock:
            self._state.requests.append(
                RecordedRequest(action, region, secret_id, params, error_code)
            )

    def _authenticate(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> FakeAccount:
        match = _AUTHORIZATION.match(headers.get("authorization", ""))
        if match is None:
            raise ApiError("AuthFailure.InvalidAuthorization")
        signed_headers = match["signed"].split(";")
        # The v3 spec makes content-type and host mandatory signed headers.
        if "content-type" not in signed_headers or "host" not in signed_headers:
            raise ApiError("AuthFailure.InvalidAuthorization")
        try:
            timestamp = int(headers.get("x-tc-timestamp", ""))
        except ValueError:
            raise ApiError("MissingParameter", "The request is missing `X-TC-Timestamp`.") from None
        if abs(time.time() + self.clock_offset - timestamp) > MAX_CLOCK_SKEW_SECONDS:
            raise ApiError("AuthFailure.SignatureExpire")
        with self._lock:
            account = self._state.accounts.get(match["secret_id"])
        if account is None:
            raise ApiError("AuthFailure.SecretIdNotFound")
        query = urlsplit(target).query if method == "GET" else ""
        # The scope date must be the UTC date of the timestamp and the service this one.
        date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        if match["date"] != date or match["service"] != SERVICE:
            raise ApiError("AuthFailure.SignatureFailure")
        payload = body
        if headers.get("x-tc-content-sha256") == "UNSIGNED-PAYLOAD":
            payload = b"UNSIGNED-PAYLOAD"
        expected = tc3_signature(
            secret_key=account.secret_key,
            method=method,
            query=query,
            headers=headers,
            signed_headers=signed_headers,
            payload=payload,
            timestamp=timestamp,
        )
        if not hmac.compare_digest(expected, match["signature"]):
            raise ApiError("AuthFailure.SignatureFailure")
        return account

    def _dispatch(
        self, account: FakeAccount, action: str, version: str, region: str, params: dict[str, Any]
    ) -> dict:
        if not action:
            raise ApiError(
                "MissingParameter", "The request is missing a required parameter `Action`."
            )
        if version != API_VERSION:
            raise ApiError(
                "NoSuchVersion", f"The requested version `{version}` of service `tke` is not found."
            )
        handler = getattr(self, f"_action_{action}", None)
        if handler is None or action not in _ACTION_PARAMS:
            raise ApiError("InvalidAction")
        self._check_region(account, region)
        for name in params:
            if name not in _ACTION_PARAMS[action]:
                raise ApiError("UnknownParameter", f"The parameter `{name}` is not recognized.")
        self._raise_injected(action)
        return handler(account, region, params)

    @staticmethod
    def _check_region(account: FakeAccount, region: str) -> None:
        if not region:
            raise ApiError(
                "MissingParameter", "The request is missing a required parameter `Region`."
            )
        if not _REGION_SHAPE.match(region):
            raise ApiError(
                "InvalidParameterValue", f"The value `{region}` of parameter `Region` is invalid."
            )
        if region not in account.regions:
            raise ApiError("UnsupportedRegion", f"The API does not support the region `{region}`.")

    def _raise_injected(self, action: str) -> None:
        with self._lock:
            for injected in self._state.injected:
                if injected.times > 0 and injected.action in (None, action):
                    injected.times -= 1
                    raise ApiError(injected.code, injected.message)

    def _clusters(self, account: FakeAccount, region: str) -> list[FakeCluster]:
        with self._lock:
            return list(self._state.clusters.get((account.uin, region), {}).values())

    def _cluster(self, account: FakeAccount, region: str, params: dict[str, Any]) -> FakeCluster:
        cluster_id = params.get("ClusterId")
        if not cluster_id:
            raise ApiError(
                "MissingParameter", "The request is missing a required parameter `ClusterId`."
            )
        if not isinstance(cluster_id, str):
            raise ApiError("InvalidParameter", "Parameter `ClusterId` type error.")
        for cluster in self._clusters(account, region):
            if cluster.cluster_id == cluster_id:
                return cluster
        raise ApiError(self.cluster_not_found_code, f"cluster {cluster_id} not found")

    # -- actions -----------------------------------------------------------------------------

    def _action_DescribeClusters(
        self, account: FakeAccount, region: str, params: dict[str, Any]
    ) -> dict:
        cluster_ids = params.get("ClusterIds")
        offset = _int_param(params, "Offset", 0)
        limit = _int_param(params, "Limit", DEFAULT_LIMIT)
        if offset < 0 or not 0 < limit <= MAX_LIMIT:
            raise ApiError(
                "InvalidParameter.Param", f"Limit must be 1..{MAX_LIMIT} and Offset at least 0."
            )
        clusters = self._clusters(account, region)
        if cluster_ids:
            if not isinstance(cluster_ids, list) or not all(
                isinstance(i, str) for i in cluster_ids
            ):
                raise ApiError("InvalidParameter", "Parameter `ClusterIds` type error.")
            clusters = [c for c in clusters if c.cluster_id in cluster_ids]
        if cluster_type := params.get("ClusterType"):
            clusters = [c for c in clusters if c.cluster_type == cluster_type]
        page = clusters[offset : offset + limit]
        return {"TotalCount": len(clusters), "Clusters": [_cluster_json(c) for c in page]}

    def _action_DescribeClusterKubeconfig(
        self, account: FakeAccount, region: str, params: dict[str, Any]
    ) -> dict:
        cluster = self._cluster(account, region, params)
        extranet = _bool_param(params, "IsExtranet")
        kubeconfig = cluster.kubeconfig_public if extranet else cluster.kubeconfig_private
        if kubeconfig is None:
            kubeconfig = make_kubeconfig(
                cluster_id=cluster.cluster_id,
                server=f"https://{cluster.cluster_id}.{self.default_domain}",
                user=account.uin,
            )
        return {"Kubeconfig": kubeconfig}

    def _action_DescribeClusterEndpoints(
        self, account: FakeAccount, region: str, params: dict[str, Any]
    ) -> dict:
        cluster = self._cluster(account, region, params)
        domain = f"{cluster.cluster_id}.{self.default_domain}"
        return {
            "CertificationAuthority": _demo_tls().ca_pem,
            "ClusterExternalEndpoint": cluster.public_address,
            "ClusterIntranetEndpoint": cluster.private_address,
            "ClusterDomain": domain,
            "ClusterExternalACL": [],
            "ClusterExternalDomain": domain,
            "ClusterIntranetDomain": domain,
            "SecurityGroup": "",
            "ClusterIntranetSubnetId": "",
            "IntranetSecurityGroup": "",
        }

    def _action_DescribeClusterEndpointStatus(
        self, account: FakeAccount, region: str, params: dict[str, Any]
    ) -> dict:
        cluster = self._cluster(account, region, params)
        extranet = _bool_param(params, "IsExtranet")
        address = cluster.public_address if extranet else cluster.private_address
        return {"Status": "Created" if address else "NotFound", "ErrorMsg": ""}


class _Handler(BaseHTTPRequestHandler):
    fake: TkeApiServer
    protocol_version = "HTTP/1.1"
    server_version = "tkeapi-fake"

    def do_POST(self) -> None:
        self._serve("POST")

    def do_GET(self) -> None:
        self._serve("GET")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        response = self.fake.handle(method, self.path, headers, body)
        data = json.dumps({"Response": response}).encode()
        self.send_response(200)
        # Exactly "application/json": the SDK only looks for Response.Error under this type.
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


def _read_params(method: str, target: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    if method == "GET":
        return _unflatten(dict(parse_qsl(urlsplit(target).query, keep_blank_values=True)))
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            raise ApiError("InvalidParameter", "The request body is not valid JSON.") from None
        if not isinstance(params, dict):
            raise ApiError("InvalidParameter", "The request body must be a JSON object.")
        return params
    if content_type == "application/x-www-form-urlencoded":
        return _unflatten(dict(parse_qsl(body.decode(), keep_blank_values=True)))
    raise ApiError("InvalidParameter", f"Content-Type `{content_type}` is not supported.")


def _unflatten(flat: dict[str, str]) -> dict[str, Any]:
    """Turn the GET/form encoding ``ClusterIds.0=a&ClusterIds.1=b`` back into lists."""
    params: dict[str, Any] = {}
    for key, value in flat.items():
        name, _, index = key.partition(".")
        if index.isdigit():
            params.setdefault(name, []).append(value)
        else:
            params[key] = value
    return params


def _int_param(params: dict[str, Any], name: str, default: int) -> int:
    value = params.get(name, default)
    if isinstance(value, bool):
        raise ApiError("InvalidParameter", f"Parameter `{name}` type error.")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError("InvalidParameter", f"Parameter `{name}` type error.") from None


def _bool_param(params: dict[str, Any], name: str) -> bool:
    value = params.get(name, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ApiError("InvalidParameter", f"Parameter `{name}` type error.")


def _cluster_json(cluster: FakeCluster) -> dict[str, Any]:
    """A Cluster object with only the fields the SDK's ``models.Cluster`` knows."""
    return {
        "ClusterId": cluster.cluster_id,
        "ClusterName": cluster.name,
        "ClusterDescription": "",
        "ClusterVersion": cluster.version,
        "ClusterOs": "tlinux3.1x86_64",
        "ClusterType": cluster.cluster_type,
        "ClusterNetworkSettings": {
            "ClusterCIDR": "172.16.0.0/16",
            "IgnoreClusterCIDRConflict": False,
            "MaxNodePodNum": 64,
            "MaxClusterServiceNum": 1024,
            "Ipvs": True,
            "VpcId": "vpc-3xmpl4e1",
            "Cni": True,
            "KubeProxyMode": "ipvs",
            "ServiceCIDR": "",
            "Subnets": [],
            "IgnoreServiceCIDRConflict": False,
            "IsDualStack": False,
            "Ipv6ServiceCIDR": "",
            "CiliumMode": "",
        },
        "ClusterNodeNum": 3,
        "ProjectId": 0,
        "TagSpecification": [],
        "ClusterStatus": cluster.status,
        "Property": json.dumps({"NodeNameType": "lan-ip"}),
        "ClusterMaterNodeNum": 0,
        "ImageId": "img-eb30mz89",
        "OsCustomizeType": "GENERAL",
        "ContainerRuntime": "containerd",
        "CreatedTime": cluster.created,
        "DeletionProtection": False,
        "EnableExternalNode": False,
        "ClusterLevel": "L5",
        "AutoUpgradeClusterLevel": False,
        "QGPUShareEnable": False,
        "RuntimeVersion": "1.6.9",
        "ClusterEtcdNodeNum": 0,
    }


def _address_of(kubeconfig: str | None) -> str:
    """host[:port] of a kubeconfig's first server, which is what TKE reports as the endpoint."""
    if kubeconfig is None:
        return ""
    config = yaml.safe_load(kubeconfig)
    server = config["clusters"][0]["cluster"]["server"]
    return urlsplit(server).netloc


@dataclass(frozen=True)
class _DemoTls:
    ca_pem: str
    client_cert_pem: str
    client_key_pem: str


@functools.cache
def _demo_tls() -> _DemoTls:
    """A throwaway CA and a client certificate it signed, made once per process."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tkeapi-fake CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "100012345678")]))
        .issuer_name(ca_name)
        .public_key(client_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .sign(ca_key, hashes.SHA256())
    )
    return _DemoTls(
        ca_pem=ca.public_bytes(serialization.Encoding.PEM).decode(),
        client_cert_pem=client.public_bytes(serialization.Encoding.PEM).decode(),
        client_key_pem=client_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
    )


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
