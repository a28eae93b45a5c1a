"""The resources the fake serves, and the discovery documents describing them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

# Field selectors the real registries accept, beyond metadata.name/metadata.namespace
# (pkg/apis/core/v1/conversion.go and friends).
_POD_FIELDS = (
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
)


@dataclass(frozen=True)
class Kind:
    """One served resource: its group/version, names and what it supports."""

    resource: str
    kind: str
    singular: str
    group: str = ""
    version: str = "v1"
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    field_labels: tuple[str, ...] = ("metadata.name", "metadata.namespace")
    # Kinds whose strategy maintains metadata.generation (workloads); absent on core kinds.
    has_generation: bool = False
    # Namespaces are RFC 1123 labels; everything else here is an RFC 1123 subdomain.
    name_is_label: bool = False
    verbs: tuple[str, ...] = tuple(ALL_VERBS)

    @property
    def api_version(self) -> str:
        """`v1` or `apps/v1`."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        """`SecretList` etc."""
        return self.kind + "List"

    def discovery_entry(self) -> dict[str, Any]:
        """The APIResource entry for legacy discovery."""
        entry: dict[str, Any] = {
            "name": self.resource,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        return entry


KINDS: dict[str, Kind] = {
    k.resource: k
    for k in (
        Kind(
            "namespaces",
            "Namespace",
            "namespace",
            namespaced=False,
            short_names=("ns",),
            field_labels=("metadata.name", "status.phase"),
            name_is_label=True,
            verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
        ),
        Kind(
            "secrets",
            "Secret",
            "secret",
            field_labels=("metadata.name", "metadata.namespace", "type"),
        ),
        Kind("serviceaccounts", "ServiceAccount", "serviceaccount", short_names=("sa",)),
        Kind(
            "pods",
            "Pod",
            "pod",
            short_names=("po",),
            field_labels=("metadata.name", "metadata.namespace", *_POD_FIELDS),
        ),
        Kind(
            "deployments",
            "Deployment",
            "deployment",
            group="apps",
            short_names=("deploy",),
            has_generation=True,
        ),
        Kind(
            "statefulsets",
            "StatefulSet",
            "statefulset",
            group="apps",
            short_names=("sts",),
            has_generation=True,
        ),
        Kind(
            "daemonsets",
            "DaemonSet",
            "daemonset",
            group="apps",
            short_names=("ds",),
            has_generation=True,
        ),
        Kind(
            "jobs",
            "Job",
            "job",
            group="batch",
            field_labels=("metadata.name", "metadata.namespace", "status.successful"),
            has_generation=True,
        ),
        Kind(
            "cronjobs",
            "CronJob",
            "cronjob",
            group="batch",
            short_names=("cj",),
            has_generation=True,
        ),
    )
}

SSAR_RESOURCE = "selfsubjectaccessreviews"
GROUP_VERSIONS = ("apps/v1", "batch/v1", "authorization.k8s.io/v1")


def find_kind(group: str, version: str, resource: str) -> Kind | None:
    """The Kind served at /api(s)/<group>/<version>/<resource>, if any."""
    kind = KINDS.get(resource)
    if kind is None or kind.group != group or kind.version != version:
        return None
    return kind


def version_info() -> dict[str, str]:
    """GET /version: minor 32 makes the gcloud kubectl dispatcher pick kubectl 1.32."""
    return {
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0",
        "gitCommit": "70d3cc986aa8221cd1dfb1121852688902d3bf53",
        "gitTreeState": "clean",
        "buildDate": "2024-12-11T17:59:15Z",
        "goVersion": "go1.23.3",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(server_address: str) -> dict[str, Any]:
    """GET /api (legacy form, which makes kubectl fall back to per-group discovery)."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def api_group_list() -> dict[str, Any]:
    """GET /apis."""
    groups = []
    for group_version in GROUP_VERSIONS:
        name, version = group_version.split("/")
        gv = {"groupVersion": group_version, "version": version}
        groups.append({"name": name, "versions": [gv], "preferredVersion": gv})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict[str, Any] | None:
    """GET /apis/<group>."""
    for group_version in GROUP_VERSIONS:
        name, version = group_version.split("/")
        if name == group:
            gv = {"groupVersion": group_version, "version": version}
            return {
                "kind": "APIGroup",
                "apiVersion": "v1",
                "name": name,
                "versions": [gv],
                "preferredVersion": gv,
            }
    return None


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    """GET /api/v1 or /apis/<group>/<version> (APIResourceList)."""
    if group == "authorization.k8s.io" and version == "v1":
        resources = [
            {
                "name": SSAR_RESOURCE,
                "singularName": "selfsubjectaccessreview",
                "namespaced": False,
                "kind": "SelfSubjectAccessReview",
                "verbs": ["create"],
            }
        ]
    else:
        resources = [
            k.discovery_entry() for k in KINDS.values() if (k.group, k.version) == (group, version)
        ]
        if not resources:
            return None
    body: dict[str, Any] = {"kind": "APIResourceList"}
    if group:
        # Real clusters omit apiVersion on the legacy /api/v1 list only.
        body["apiVersion"] = "v1"
    body["groupVersion"] = f"{group}/{version}" if group else version
    body["resources"] = resources
    return body
