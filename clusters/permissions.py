"""The Kubernetes permissions the product needs, and the RBAC YAML that grants them."""

from __future__ import annotations

from dataclasses import dataclass

import yaml


@dataclass(frozen=True)
class Permission:
    group: str
    resource: str
    verb: str

    @property
    def key(self) -> str:
        return f"{self.verb} {self.resource}"


REQUIRED: tuple[Permission, ...] = (
    Permission("", "namespaces", "list"),
    Permission("", "namespaces", "watch"),
    Permission("", "secrets", "get"),
    Permission("", "secrets", "list"),
    Permission("", "secrets", "create"),
    Permission("", "secrets", "update"),
    Permission("", "secrets", "patch"),
    Permission("", "serviceaccounts", "get"),
    Permission("", "serviceaccounts", "list"),
    Permission("", "serviceaccounts", "watch"),
    Permission("", "serviceaccounts", "patch"),
    Permission("", "pods", "list"),
    Permission("apps", "deployments", "list"),
    Permission("apps", "statefulsets", "list"),
    Permission("apps", "daemonsets", "list"),
    Permission("batch", "cronjobs", "list"),
)

ROLE_NAME = "regcred-dashboard"


def _rules(permissions) -> list[dict]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for perm in permissions:
        grouped.setdefault((perm.group, perm.resource), []).append(perm.verb)
    return [
        {"apiGroups": [group], "resources": [resource], "verbs": verbs}
        for (group, resource), verbs in grouped.items()
    ]


def cluster_role_yaml(missing_keys: list[str] | None = None) -> str:
    """A ClusterRole with exactly what the product needs (or only the ``missing_keys``)."""
    wanted = [p for p in REQUIRED if missing_keys is None or p.key in missing_keys]
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": ROLE_NAME},
        "rules": _rules(wanted),
    }
    return yaml.safe_dump(role, sort_keys=False)


def service_account_setup_yaml(*, namespace: str = "kube-system", name: str = ROLE_NAME) -> str:
    """Everything to apply before onboarding with a service account (Kubernetes >= 1.24)."""
    documents = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": namespace},
        },
        yaml.safe_load(cluster_role_yaml()),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": ROLE_NAME,
            },
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
        },
        # Since 1.24 no token Secret is made automatically; this asks the token controller
        # for a long-lived one bound to the service account.
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/service-account-token",
            "metadata": {
                "name": f"{name}-token",
                "namespace": namespace,
                "annotations": {"kubernetes.io/service-account.name": name},
            },
        },
    ]
    return yaml.safe_dump_all(documents, sort_keys=False)


def service_account_token_commands(*, namespace: str = "kube-system", name: str = ROLE_NAME):
    secret = f"{name}-token"
    return [
        f"kubectl -n {namespace} get secret {secret} -o jsonpath='{{.data.token}}' | base64 -d",
        f"kubectl -n {namespace} get secret {secret} -o jsonpath='{{.data.ca\\.crt}}' | base64 -d",
    ]
