"""Tencent Cloud TKE: list an account's clusters and fetch their kubeconfigs.

The only module that imports the TKE SDK. Every failure leaves here as ``TkeError`` with a
message a person can act on and a ``permanent`` flag that tells a task whether to retry.
The SecretKey is handed to the SDK to sign requests and appears in no message or log line.
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import yaml
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from tencentcloud.common.credential import Credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.tke.v20180525 import models
from tencentcloud.tke.v20180525.tke_client import TkeClient

logger = logging.getLogger(__name__)

# DescribeClusters answers at most 100 clusters per page.
PAGE_SIZE = 100
# One number for connect and read: the SDK hands reqTimeout to requests as a single timeout.
DEFAULT_TIMEOUT_SECONDS = 15
# A lookup of the API server's name must not hold a worker for the resolver's full retry cycle.
DNS_TIMEOUT_SECONDS = 5

# Codes a retry can fix: Tencent's own trouble, throttling, a cluster busy upgrading, the network.
_TRANSIENT_PREFIXES = (
    "InternalError",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "ResourceUnavailable",
    "FailedOperation",
    "ClientNetworkError",
    "ServerNetworkError",
)


_FIXED_MESSAGES = {
    "AuthFailure.SecretIdNotFound": gettext_lazy(
        "Tencent Cloud does not know this SecretId. Check that it was copied whole and "
        "that the key has not been deleted or disabled in the CAM console."
    ),
    "AuthFailure.SignatureFailure": gettext_lazy(
        "Tencent Cloud refused the SecretKey: it does not belong to this SecretId. Check "
        "that the key pair was copied whole."
    ),
    "AuthFailure.SignatureExpire": gettext_lazy(
        "Tencent Cloud refused the request because this server's clock is more than five "
        "minutes off. Synchronise the clock (NTP) and try again."
    ),
    "AuthFailure.InvalidSecretId": gettext_lazy("This is not a Tencent Cloud API SecretId."),
    "RequestLimitExceeded": gettext_lazy(
        "Tencent Cloud is rate-limiting these API keys; try again shortly."
    ),
}


def _only_warnings(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


# Below WARNING the SDK logs whole responses, DescribeClusterKubeconfig's client key included.
# A filter (not a level) so that no logging configuration can turn that back on.
logging.getLogger("tencentcloud_sdk_common").addFilter(_only_warnings)


class TkeError(Exception):
    """A TKE call failed; ``message`` says why in words, ``permanent`` whether to retry."""

    def __init__(
        self, message: str, *, code: str = "", permanent: bool = False, request_id: str = ""
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.permanent = permanent
        self.request_id = request_id

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class TkeCluster:
    """A cluster as DescribeClusters reports it (the region is the one asked about)."""

    cluster_id: str
    name: str
    version: str
    status: str
    region: str


def tke_regions() -> list[tuple[str, str]]:
    """Common TKE regions as (code, display name) choices for a form."""
    return [
        ("ap-guangzhou", _("South China (Guangzhou)")),
        ("ap-shanghai", _("East China (Shanghai)")),
        ("ap-nanjing", _("East China (Nanjing)")),
        ("ap-beijing", _("North China (Beijing)")),
        ("ap-chengdu", _("Southwest China (Chengdu)")),
        ("ap-chongqing", _("Southwest China (Chongqing)")),
        ("ap-hongkong", _("Hong Kong, China")),
        ("ap-singapore", _("Singapore")),
        ("ap-bangkok", _("Bangkok")),
        ("ap-jakarta", _("Jakarta")),
        ("ap-seoul", _("Seoul")),
        ("ap-tokyo", _("Tokyo")),
        ("ap-mumbai", _("Mumbai")),
        ("na-siliconvalley", _("US West (Silicon Valley)")),
        ("na-ashburn", _("US East (Virginia)")),
        ("eu-frankfurt", _("Europe (Frankfurt)")),
        ("sa-saopaulo", _("South America (São Paulo)")),
    ]


def tke_describe_clusters(
    *, secret_id: str, secret_key: str, region: str, cluster_ids: list[str] | None = None
) -> list[TkeCluster]:
    """All clusters of the account in ``region`` (only ``cluster_ids`` if given), every page."""
    if cluster_ids is not None and not cluster_ids:
        # TKE reads an empty ClusterIds as "all clusters"; an empty filter here means none.
        return []
    client = _client(secret_id, secret_key, region)
    clusters: list[TkeCluster] = []
    while True:
        request = models.DescribeClustersRequest()
        request.Offset = len(clusters)
        request.Limit = PAGE_SIZE
        if cluster_ids:
            request.ClusterIds = list(cluster_ids)
        response = _call(client, "DescribeClusters", request, secret_key=secret_key, region=region)
        page = response.Clusters or []
        clusters.extend(
            TkeCluster(
                cluster_id=item.ClusterId or "",
                name=item.ClusterName or "",
                version=item.ClusterVersion or "",
                status=item.ClusterStatus or "",
                region=region,
            )
            for item in page
        )
        # Stop on an empty page too, so a TotalCount that drifts mid-listing cannot loop forever.
        if not page or len(clusters) >= (response.TotalCount or 0):
            return clusters


def tke_cluster_kubeconfig(
    *, secret_id: str, secret_key: str, region: str, cluster_id: str, extranet: bool
) -> str:
    """The kubeconfig for the cluster's public (``extranet``) or private API server endpoint.

    TKE answers even for an endpoint that is not enabled, with a server name that does not
    resolve; that case is refused here with a plain explanation. An enabled endpoint whose
    domain is simply not in DNS (TKE's ``<cluster>.ccs.tencent-cloud.com`` names often are
    not) is pointed at the endpoint's address, keeping the domain as the TLS server name.
    """
    call = partial(
        _call,
        _client(secret_id, secret_key, region),
        secret_key=secret_key,
        region=region,
        cluster_id=cluster_id,
    )
    request = models.DescribeClusterKubeconfigRequest()
    request.ClusterId = cluster_id
    request.IsExtranet = extranet
    kubeconfig = call("DescribeClusterKubeconfig", request).Kubeconfig or ""
    config, cluster = _current_cluster(kubeconfig, cluster_id)
    host = urlsplit(str(cluster.get("server", ""))).hostname or ""
    if host and _resolves(host):
        return kubeconfig

    request = models.DescribeClusterEndpointsRequest()
    request.ClusterId = cluster_id
    endpoints = call("DescribeClusterEndpoints", request)
    address = endpoints.ClusterExternalEndpoint if extranet else endpoints.ClusterIntranetEndpoint
    if not address:
        raise _endpoint_not_enabled(cluster_id, extranet)
    cluster["server"] = address if "://" in address else f"https://{address}"
    if host:
        # The API server's certificate names the domain, not the address.
        cluster["tls-server-name"] = host
    return yaml.safe_dump(config, sort_keys=False)


def _client(secret_id: str, secret_key: str, region: str) -> TkeClient:
    endpoint = urlsplit(settings.REGCRED_TKE_ENDPOINT)
    if endpoint.scheme not in ("http", "https") or not endpoint.netloc:
        raise TkeError(
            _("REGCRED_TKE_ENDPOINT must be an http:// or https:// URL."), permanent=True
        )
    timeout = getattr(settings, "REGCRED_TKE_TIMEOUT", DEFAULT_TIMEOUT_SECONDS)
    # The SDK builds the URL from protocol + endpoint ("host[:port]") and signs that Host.
    http_profile = HttpProfile(
        protocol=endpoint.scheme, endpoint=endpoint.netloc, reqTimeout=timeout
    )
    # The region breaker stays off: its code path swallows network errors and returns None.
    # No SDK retryer either: callers (Celery tasks) retry transient errors with backoff.
    profile = ClientProfile(httpProfile=http_profile, language="en-US", disable_region_breaker=True)
    try:
        return TkeClient(Credential(secret_id, secret_key), region, profile)
    except TencentCloudSDKException:
        # Only Credential raises here: an empty key, or one with surrounding spaces.
        raise TkeError(
            _("The SecretId and SecretKey must be filled in, without spaces around them."),
            permanent=True,
        ) from None


def _call(
    client: TkeClient,
    action: str,
    request: Any,
    *,
    secret_key: str,
    region: str,
    cluster_id: str = "",
) -> Any:
    try:
        return getattr(client, action)(request)
    except TencentCloudSDKException as exc:
        error = _translate(exc, secret_key=secret_key, region=region, cluster_id=cluster_id)
        logger.warning(
            "TKE %s failed in %s: code=%s request_id=%s permanent=%s",
            action,
            region,
            exc.code,
            error.request_id,
            error.permanent,
        )
        raise error from None


def _translate(
    exc: TencentCloudSDKException, *, secret_key: str, region: str, cluster_id: str
) -> TkeError:
    code = str(exc.code or "")
    detail = (
        exc.message.decode(errors="replace")
        if isinstance(exc.message, bytes)
        else str(exc.message or "")
    )
    if secret_key:
        detail = detail.replace(secret_key, "********")
    request_id = str(exc.requestId or "")
    if not request_id and code not in ("ClientNetworkError", "ServerNetworkError"):
        # The SDK names other local failures after the Python exception (JSONDecodeError,
        # KeyError): the endpoint answered something that is not the Tencent Cloud API.
        return TkeError(
            _("The Tencent Cloud API at %(endpoint)s gave an answer that could not be read.")
            % {"endpoint": settings.REGCRED_TKE_ENDPOINT}
        )
    permanent = not code.startswith(_TRANSIENT_PREFIXES)
    if code.endswith("ClusterNotFound"):
        # Also InternalError.ClusterNotFound, which older TKE versions answered with.
        permanent = True
    return TkeError(
        _message_for(code, detail, region=region, cluster_id=cluster_id),
        # Only codes Tencent sent (those come with a RequestId), not the SDK's network ones.
        code=code if request_id else "",
        permanent=permanent,
        request_id=request_id,
    )


def _message_for(code: str, detail: str, *, region: str, cluster_id: str) -> str:
    if code in _FIXED_MESSAGES:
        return str(_FIXED_MESSAGES[code])
    if code.startswith(("AuthFailure", "UnauthorizedOperation")):
        return _(
            "These API keys may not do this (%(code)s: %(detail)s). Grant them read access "
            "to TKE in the CAM console."
        ) % {"code": code, "detail": detail}
    if code.endswith("ClusterNotFound") or (code.startswith("ResourceNotFound") and cluster_id):
        return _("TKE cluster %(cluster)s does not exist in region %(region)s.") % {
            "cluster": cluster_id,
            "region": region,
        }
    if code == "UnsupportedRegion" or (code == "InvalidParameterValue" and "Region" in detail):
        return _("TKE does not offer region %(region)s to this account.") % {"region": region}
    if code.startswith("RequestLimitExceeded"):
        return str(_FIXED_MESSAGES["RequestLimitExceeded"])
    if code == "ClientNetworkError":
        return _("Could not reach the Tencent Cloud API at %(endpoint)s: %(reason)s.") % {
            "endpoint": settings.REGCRED_TKE_ENDPOINT,
            "reason": _network_reason(detail),
        }
    if code == "ServerNetworkError":
        return _("The Tencent Cloud API at %(endpoint)s answered with an HTTP error.") % {
            "endpoint": settings.REGCRED_TKE_ENDPOINT
        }
    if code.startswith(_TRANSIENT_PREFIXES):
        return _("Tencent Cloud could not complete the request (%(code)s); try again shortly.") % {
            "code": code
        }
    return _("Tencent Cloud refused the request (%(code)s: %(detail)s).") % {
        "code": code,
        "detail": detail,
    }


def _network_reason(detail: str) -> str:
    """The gist of a requests/urllib3 error, whose full text names internal objects."""
    lowered = detail.lower()
    if "timed out" in lowered or "timeout" in lowered:
        return _("the connection timed out")
    if "refused" in lowered:
        return _("the connection was refused")
    if "name or service not known" in lowered or "nameresolution" in lowered:
        return _("its host name could not be resolved")
    if "certificate" in lowered or "ssl" in lowered:
        return _("its TLS certificate could not be verified")
    return detail


def _current_cluster(kubeconfig: str, cluster_id: str) -> tuple[dict, dict]:
    """The parsed kubeconfig and the ``cluster`` mapping its current context uses."""
    try:
        config = yaml.safe_load(kubeconfig)
        contexts = {c["name"]: c["context"] for c in config.get("contexts") or []}
        clusters = {c["name"]: c["cluster"] for c in config["clusters"]}
        current = contexts.get(config.get("current-context") or "")
        name = current["cluster"] if current else next(iter(clusters))
        return config, clusters[name]
    except (yaml.YAMLError, AttributeError, KeyError, TypeError, StopIteration):
        raise TkeError(
            _("TKE returned a kubeconfig for cluster %(cluster)s that could not be read.")
            % {"cluster": cluster_id},
            permanent=True,
        ) from None


def _resolves(host: str) -> bool:
    """Whether ``host`` has an address; a resolver that cannot answer is a transient error."""
    # RFC 6761 §6.4: names under .invalid never resolve, so do not ask a resolver.
    if host.rstrip(".").lower().endswith(".invalid"):
        return False
    outcome: list[BaseException | None] = []

    def lookup() -> None:
        try:
            socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
            outcome.append(None)
        except (OSError, UnicodeError) as exc:
            outcome.append(exc)

    # getaddrinfo has no timeout of its own; a daemon thread bounds the wait.
    thread = threading.Thread(target=lookup, name="tke-dns-lookup", daemon=True)
    thread.start()
    thread.join(DNS_TIMEOUT_SECONDS)
    if not outcome:
        raise TkeError(
            _("Looking up %(host)s in DNS took too long; try again shortly.") % {"host": host}
        )
    error = outcome[0]
    if isinstance(error, socket.gaierror) and error.errno == socket.EAI_AGAIN:
        raise TkeError(
            _("DNS could not look up %(host)s just now; try again shortly.") % {"host": host}
        )
    return error is None


def _endpoint_not_enabled(cluster_id: str, extranet: bool) -> TkeError:
    if extranet:
        message = _(
            "The public endpoint of TKE cluster %(cluster)s is not enabled, so its API server "
            "cannot be reached from the internet. Enable public network access for the cluster "
            "in the TKE console (cluster > Basic information > API server information), or "
            "choose the private endpoint instead."
        )
    else:
        message = _(
            "The private endpoint of TKE cluster %(cluster)s is not enabled, so its API server "
            "cannot be reached inside the VPC. Enable private network access for the cluster "
            "in the TKE console (cluster > Basic information > API server information), or "
            "choose the public endpoint instead."
        )
    return TkeError(message % {"cluster": cluster_id}, permanent=True)
