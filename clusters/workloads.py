"""Which workloads will fail to pull: images on a registry we hold a credential for, with no
pull secret for it in the pod spec or through the service account. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.utils.translation import gettext as _

from accounts.dockerconfig import canonical_registry_host

# (list path, kind, where the pod spec lives)
WORKLOAD_LISTS = (
    ("/apis/apps/v1/deployments", "Deployment", ("spec", "template", "spec")),
    ("/apis/apps/v1/statefulsets", "StatefulSet", ("spec", "template", "spec")),
    ("/apis/apps/v1/daemonsets", "DaemonSet", ("spec", "template", "spec")),
    ("/apis/batch/v1/cronjobs", "CronJob", ("spec", "jobTemplate", "spec", "template", "spec")),
    ("/api/v1/pods", "Pod", ("spec",)),
)


def image_registry(image: str) -> str:
    """The registry host of an image reference, as the container runtime resolves it."""
    name = image.split("@", 1)[0]
    first, slash, _rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return canonical_registry_host(first)
    return "docker.io"


@dataclass(frozen=True)
class PodTemplate:
    kind: str
    namespace: str
    name: str
    spec: dict


@dataclass(frozen=True)
class Risk:
    kind: str
    namespace: str
    name: str
    service_account: str
    images: list[str]
    pull_secrets: list[str]
    risk: str
    registry: str
    detail: str


def pod_templates(items_by_kind: dict[str, list[dict]]) -> Iterator[PodTemplate]:
    for _path, kind, spec_path in WORKLOAD_LISTS:
        for item in items_by_kind.get(kind) or []:
            meta = item.get("metadata") or {}
            # Pods that a controller owns are judged through their controller.
            if kind == "Pod" and meta.get("ownerReferences"):
                continue
            spec = item
            for key in spec_path:
                spec = (spec or {}).get(key) or {}
            yield PodTemplate(kind, meta.get("namespace", ""), meta.get("name", ""), spec)


def assess(
    template: PodTemplate,
    *,
    secrets_in_namespace: dict[str, frozenset[str]],
    service_account_secrets: list[str],
    credential_hosts: set[str],
) -> Risk | None:
    """The risk of one workload, or None when its pulls will work."""
    spec = template.spec
    named = [ref.get("name", "") for ref in spec.get("imagePullSecrets") or []]
    service_account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    images = [
        c.get("image", "")
        for key in ("initContainers", "containers")
        for c in spec.get(key) or []
        if c.get("image")
    ]
    usable: set[str] = set()
    for secret in [*named, *service_account_secrets]:
        usable |= secrets_in_namespace.get(secret, frozenset())
    uncovered = [
        (image, host)
        for image in images
        if (host := image_registry(image)) in credential_hosts and host not in usable
    ]
    missing = [name for name in named if name not in secrets_in_namespace]
    base = {
        "kind": template.kind,
        "namespace": template.namespace,
        "name": template.name,
        "service_account": service_account,
        "images": images,
        "pull_secrets": named,
    }
    if uncovered:
        image, host = uncovered[0]
        return Risk(
            **base,
            risk="no_pull_secret",
            registry=host,
            detail=_(
                "%(image)s comes from %(host)s, but no pull secret for it is in the pod spec or on "
                "service account %(sa)s."
            )
            % {"image": image, "host": host, "sa": service_account},
        )
    if missing:
        return Risk(
            **base,
            risk="missing_secret",
            registry="",
            detail=_("Names pull secret %(names)s, which does not exist in namespace %(ns)s.")
            % {"names": ", ".join(missing), "ns": template.namespace},
        )
    return None


def assess_all(
    items_by_kind: dict[str, list[dict]],
    *,
    pull_secrets: dict[str, dict[str, frozenset[str]]],
    service_accounts: dict[tuple[str, str], list[str]],
    credential_hosts: Iterable[str],
) -> list[Risk]:
    hosts = set(credential_hosts)
    risks = []
    for template in pod_templates(items_by_kind):
        spec = template.spec
        sa = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        risk = assess(
            template,
            secrets_in_namespace=pull_secrets.get(template.namespace, {}),
            service_account_secrets=service_accounts.get((template.namespace, sa), []),
            credential_hosts=hosts,
        )
        if risk:
            risks.append(risk)
    return risks
