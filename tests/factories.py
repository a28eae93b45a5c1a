"""factory_boy factories for rows tests need but do not onboard through a form or service.

Onboarding itself (validation, checks, audit) is what ``accounts.services`` does; use these for
the surroundings: a credential a page lists, a cluster a policy points at.
"""

from __future__ import annotations

import json

import factory
from factory.django import DjangoModelFactory

from accounts.kubeconfig import KubeContext
from accounts.models import CloudAccount, RegistryCredential
from clusters.models import Cluster, PullSecretPolicy

FACTORY_TOKEN = "factory-token"


def connection_json(
    *, server: str = "https://k8s.example.com:6443", token: str = FACTORY_TOKEN, **fields
) -> str:
    """A stored cluster connection (``KubeContext`` as JSON) with a bearer token."""
    context = {
        "name": "factory",
        "cluster_name": "factory",
        "server": server,
        "ca_pem": None,
        "insecure_skip_tls_verify": False,
        "token": token,
        "client_cert_pem": None,
        "client_key_pem": None,
        "username": None,
        "password": None,
        "namespace": None,
    } | fields
    return json.dumps(KubeContext.from_dict(context).to_dict())


class CloudAccountFactory(DjangoModelFactory):
    class Meta:
        model = CloudAccount

    name = factory.Sequence(lambda n: f"account-{n}")
    kind = CloudAccount.Kind.KUBECONFIG
    kubeconfig = "apiVersion: v1\nkind: Config\n"


class ClusterFactory(DjangoModelFactory):
    class Meta:
        model = Cluster

    account = factory.SubFactory(CloudAccountFactory)
    name = factory.Sequence(lambda n: f"cluster-{n}")
    context_name = "factory"
    server = "https://k8s.example.com:6443"
    connection = factory.LazyAttribute(lambda o: connection_json(server=o.server))


class RegistryCredentialFactory(DjangoModelFactory):
    class Meta:
        model = RegistryCredential

    name = factory.Sequence(lambda n: f"registry-{n}")
    server = "registry.example.com"
    username = "ci-bot"
    password = factory.Sequence(lambda n: f"factory-password-{n}")


class PullSecretPolicyFactory(DjangoModelFactory):
    class Meta:
        model = PullSecretPolicy

    name = factory.Sequence(lambda n: f"policy-{n}")
    credential = factory.SubFactory(RegistryCredentialFactory)
    cluster = factory.SubFactory(ClusterFactory)
    secret_name = "regcred"
