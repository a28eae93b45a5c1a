"""Ready-to-copy snippets, rendered from stored names only: never a stored password.

Where a password is needed, snippets read it from ``$REGISTRY_PASSWORD`` on the machine of
the person running them.
"""

from __future__ import annotations

import base64
import json
import shlex
from dataclasses import dataclass

import yaml
from django.utils.translation import gettext_lazy as _

from accounts.dockerconfig import dockerconfigjson, normalise_registry_server

PASSWORD_VARIABLE = "REGISTRY_PASSWORD"  # noqa: S105 - a variable name, not a password
AUTH_VARIABLE = "REGISTRY_AUTH"


@dataclass(frozen=True)
class Snippet:
    key: str
    title: str
    language: str  # "yaml" | "shell" | "table"
    text: str
    help: str = ""
    rows: tuple[tuple[str, str], ...] = ()


class _Dumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks, so an embedded patch reads as YAML too."""


def _represent_str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _represent_str)


def _dump(document) -> str:
    return yaml.dump(
        document,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        width=1000,
        allow_unicode=True,
    )


def deployment(*, secret_name: str, namespace: str, image: str = "nginx:1.14.2") -> str:
    """The seed document's Deployment, with the pull Secret as its last two lines."""
    return _dump(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "nginx-deployment",
                "namespace": namespace,
                "labels": {"app": "nginx"},
            },
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "nginx"}},
                "template": {
                    "metadata": {"labels": {"app": "nginx"}},
                    "spec": {
                        "containers": [
                            {"name": "nginx", "image": image, "ports": [{"containerPort": 80}]}
                        ],
                        "imagePullSecrets": [{"name": secret_name}],
                    },
                },
            },
        }
    )


def private_image(server: str) -> str:
    return f"{normalise_registry_server(server)}/my-project/my-repo/nginx:1.14.2"


def create_secret_command(
    *, secret_name: str, namespace: str, server: str, username: str, email: str = ""
) -> str:
    lines = [
        f"kubectl create secret docker-registry {shlex.quote(secret_name)}",
        shlex.quote(f"--docker-server={server}"),
        shlex.quote(f"--docker-username={username}"),
        f'--docker-password="${PASSWORD_VARIABLE}"',
    ]
    if email:
        lines.append(shlex.quote(f"--docker-email={email}"))
    lines.append(f"-n {shlex.quote(namespace)}")
    return " \\\n  ".join(lines)


def dockerconfig_template(*, server: str, username: str, email: str = "") -> str:
    """The .dockerconfigjson text kubectl would write, with variables for the secrets.

    Built by the same encoder as the Secret the product writes, so once the variables are
    filled in the bytes are exactly what `kubectl create secret docker-registry` stores.
    """
    password = f"${{{PASSWORD_VARIABLE}}}"
    text = dockerconfigjson(server=server, username=username, password=password, email=email)
    auth = base64.b64encode(f"{username}:{password}".encode()).decode()
    return text.decode().replace(f'"auth":"{auth}"', f'"auth":"${{{AUTH_VARIABLE}}}"')


def secret_manifest(
    *, secret_name: str, namespace: str, server: str, username: str, email: str = ""
) -> str:
    return _dump(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": secret_name, "namespace": namespace},
            "type": "kubernetes.io/dockerconfigjson",
            "stringData": {
                ".dockerconfigjson": dockerconfig_template(
                    server=server, username=username, email=email
                )
            },
        }
    )


def fill_in_command(*, username: str, filename: str = "secret.yaml") -> str:
    return (
        f"export {AUTH_VARIABLE}=\"$(printf '%s:%s' {shlex.quote(username)} "
        f'"${PASSWORD_VARIABLE}" | base64 | tr -d \'\\n\')"\n'
        f"envsubst '${PASSWORD_VARIABLE} ${AUTH_VARIABLE}' < {filename} | kubectl apply -f -"
    )


def service_account_patch_command(
    *, secret_name: str, namespace: str, service_account: str = "default"
) -> str:
    patch = json.dumps({"imagePullSecrets": [{"name": secret_name}]}, separators=(",", ":"))
    return (
        f"kubectl patch serviceaccount {shlex.quote(service_account)} "
        f"-n {shlex.quote(namespace)} -p {shlex.quote(patch)}"
    )


def service_account_yaml(
    *, secret_name: str, namespace: str, service_account: str = "default"
) -> str:
    return _dump(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": service_account, "namespace": namespace},
            "imagePullSecrets": [{"name": secret_name}],
        }
    )


def helm_values(*, secret_name: str) -> str:
    return _dump({"imagePullSecrets": [{"name": secret_name}]})


def kustomize_patch(*, secret_name: str) -> str:
    patch = _dump(
        [
            {
                "op": "add",
                "path": "/spec/template/spec/imagePullSecrets",
                "value": [{"name": secret_name}],
            }
        ]
    )
    return _dump(
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": ["deployment.yaml"],
            "patches": [{"target": {"kind": "Deployment"}, "patch": patch}],
        }
    )


def tke_console_fields(
    *, secret_name: str, namespace: str, server: str, username: str, credential_name: str
) -> list[tuple[str, str]]:
    """How the TKE console's Secret form (Cluster > Configuration > Secret > New) maps."""
    return [
        (_("Name (名称)"), secret_name),
        (_("Secret type (Secret类型)"), "Dockercfg"),
        (_("Effective scope (生效范围)"), _("Specific namespaces: %(ns)s") % {"ns": namespace}),
        (_("Registry domain (仓库域名)"), normalise_registry_server(server)),
        (_("Username (用户名)"), username),
        (
            _("Password (密码)"),
            _("the password of credential %(name)s (not shown here)") % {"name": credential_name},
        ),
    ]


def snippets_for(*, secret_name: str, namespace: str, credential, tke: bool = False) -> list:
    """Every snippet for one Secret in one namespace, in the order people need them."""
    server, username, email = credential.server, credential.username, credential.email
    items = [
        Snippet(
            "deployment",
            _("Deployment using the Secret"),
            "yaml",
            deployment(secret_name=secret_name, namespace=namespace),
            _("The last two lines are what matter: imagePullSecrets names the Secret."),
        ),
        Snippet(
            "deployment-private",
            _("Deployment with an image from this registry"),
            "yaml",
            deployment(secret_name=secret_name, namespace=namespace, image=private_image(server)),
        ),
        Snippet(
            "kubectl-create",
            _("Create the Secret with kubectl"),
            "shell",
            create_secret_command(
                secret_name=secret_name,
                namespace=namespace,
                server=server,
                username=username,
                email=email,
            ),
            _(
                "Set REGISTRY_PASSWORD in your shell first; the dashboard never shows the "
                "stored password."
            ),
        ),
        Snippet(
            "secret-manifest",
            _("Secret manifest"),
            "yaml",
            secret_manifest(
                secret_name=secret_name,
                namespace=namespace,
                server=server,
                username=username,
                email=email,
            ),
            _(
                "Save as secret.yaml; the next snippet fills in the password from your "
                'environment (a password containing " or \\ needs JSON escaping).'
            ),
        ),
        Snippet(
            "secret-fill",
            _("Fill in the password and apply"),
            "shell",
            fill_in_command(username=username),
        ),
        Snippet(
            "sa-patch",
            _("Let the default service account use it"),
            "shell",
            service_account_patch_command(secret_name=secret_name, namespace=namespace),
            _(
                "Pods that name no imagePullSecrets then get it. Note: this replaces the "
                "service account's list; the dashboard's own patching keeps existing "
                "entries."
            ),
        ),
        Snippet(
            "sa-yaml",
            _("ServiceAccount manifest"),
            "yaml",
            service_account_yaml(secret_name=secret_name, namespace=namespace),
        ),
        Snippet(
            "helm",
            _("Helm values"),
            "yaml",
            helm_values(secret_name=secret_name),
            _("Most charts read imagePullSecrets from their values."),
        ),
        Snippet(
            "kustomize", _("Kustomize patch"), "yaml", kustomize_patch(secret_name=secret_name)
        ),
    ]
    if tke:
        fields = tke_console_fields(
            secret_name=secret_name,
            namespace=namespace,
            server=server,
            username=username,
            credential_name=credential.name,
        )
        items.append(
            Snippet(
                "tke-console",
                _("TKE console: Cluster > Configuration > Secret > New"),
                "table",
                "\n".join(f"{label}: {value}" for label, value in fields),
                rows=tuple(fields),
            )
        )
    return items
