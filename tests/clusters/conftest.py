from __future__ import annotations

import json

import pytest

from accounts.kubeconfig import validate_kubeconfig
from accounts.models import CloudAccount, RegistryCredential
from clusters.models import Cluster, PullSecretPolicy

PASSWORD = "s3cret-Pull-Pa55word"


@pytest.fixture
def account(db, operator):
    return CloudAccount.objects.create(name="fake", kind="kubeconfig", owner=operator)


def cluster_for(kubeapi, account, name="fake-cluster", **kubeconfig) -> Cluster:
    context = validate_kubeconfig(json.dumps(kubeapi.kubeconfig(**kubeconfig))).contexts[0]
    return Cluster.objects.create(
        account=account,
        name=name,
        context_name=context.name,
        server=context.server,
        connection=json.dumps(context.to_dict()),
        check_status=Cluster.Check.OK,
    )


@pytest.fixture
def cluster(kubeapi, account) -> Cluster:
    return cluster_for(kubeapi, account)


@pytest.fixture
def credential(db, operator) -> RegistryCredential:
    return RegistryCredential.objects.create(
        name="team",
        server="team-docker.pkg.coding.net",
        username="ci@example.com",
        password=PASSWORD,
        email="ci@example.com",
        owner=operator,
    )


@pytest.fixture
def policy(cluster, credential, operator) -> PullSecretPolicy:
    return PullSecretPolicy.objects.create(
        name="team-pull",
        credential=credential,
        cluster=cluster,
        secret_name="coding-regcred",
        created_by=operator,
    )


@pytest.fixture
def kubectl_api(kubeapi):
    """The official client as a person would use it out of band (kubectl's role in tests)."""
    from kubernetes import client, config

    api = config.new_client_from_config_dict(kubeapi.kubeconfig())
    yield client.CoreV1Api(api)
    api.close()
