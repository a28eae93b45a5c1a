"""Fixtures for onboarding tests: what Celery was sent, and the registry login."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from celery.signals import before_task_publish

from dashboard.celery import app as celery_app

REGION = "ap-guangzhou"


@dataclass(frozen=True)
class PublishedTask:
    """One task message as it left for the broker."""

    name: str
    body: Any
    headers: dict
    properties: dict

    def __str__(self) -> str:
        return repr((self.name, self.body, self.headers, self.properties))


@pytest.fixture
def celery_messages(settings) -> Iterator[list[PublishedTask]]:
    """Every task message published during the test, kept in memory instead of a broker.

    The producer pool is pointed at kombu's in-memory transport for the test, so the messages
    are really serialised and published (``before_task_publish`` sees body and headers) but
    never reach the development broker under ``var/`` or a shared Redis.
    """
    settings.CELERY_TASK_ALWAYS_EAGER = False
    published: list[PublishedTask] = []

    def record(sender=None, body=None, headers=None, properties=None, **_kwargs):
        published.append(PublishedTask(sender, body, dict(headers or {}), dict(properties or {})))

    saved = (celery_app._pool, celery_app.amqp._producer_pool)
    settings.CELERY_BROKER_URL = "memory://localhost/"
    settings.CELERY_BROKER_WRITE_URL = "memory://localhost/"
    celery_app._pool = celery_app.amqp._producer_pool = None
    before_task_publish.connect(record, weak=False)
    try:
        yield published
    finally:
        before_task_publish.disconnect(record)
        # kombu keeps pools in a process-wide registry: restore, never close, the shared ones.
        celery_app._pool, celery_app.amqp._producer_pool = saved


@pytest.fixture
def eager_celery(settings) -> None:
    """Run queued tasks in-process, as a worker would, once their transaction commits."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True


@dataclass(frozen=True)
class TkeKeys:
    """API keys of a Tencent Cloud sub-account known to the fake TKE endpoint."""

    secret_id: str
    secret_key: str
    region: str


def tke_style_kubeconfig(kubeapi, cluster_id: str, *, cert: bool) -> str:
    """A kubeconfig shaped like TKE's (cluster named by id) for the fake API server.

    With ``cert`` the user authenticates with an inline client certificate, as TKE's
    sub-account kubeconfigs do; otherwise with a bearer token.
    """
    if cert:
        cert_pem, key_pem = kubeapi.issue_client_cert(cn="100012345678", groups=["system:masters"])
        document = kubeapi.kubeconfig(cert=cert_pem, key=key_pem, context=cluster_id)
    else:
        document = kubeapi.kubeconfig(
            token=kubeapi.add_token(f"tke-{cluster_id}-token", user="tke"), context=cluster_id
        )
    document["contexts"][0]["name"] = document["current-context"] = f"{cluster_id}-context-default"
    return yaml.safe_dump(document, sort_keys=False)


@pytest.fixture
def tke_keys(tkeapi, kubeapi) -> TkeKeys:
    """Keys seeing two clusters in ap-guangzhou, both served by the fake API server.

    cls-prod01 has only its public endpoint enabled (client certificate, as TKE issues);
    cls-stage01 has only its private endpoint enabled (bearer token).
    """
    keys = TkeKeys("AKIDotto000000000000000000000000000", "otto-tke-secret-key-0001", REGION)
    tkeapi.add_account(keys.secret_id, keys.secret_key, regions=(REGION, "ap-shanghai"))
    tkeapi.add_cluster(
        keys.secret_id,
        REGION,
        "cls-prod01",
        name="prod",
        kubeconfig_public=tke_style_kubeconfig(kubeapi, "cls-prod01", cert=True),
    )
    tkeapi.add_cluster(
        keys.secret_id,
        REGION,
        "cls-stage01",
        name="stage",
        kubeconfig_private=tke_style_kubeconfig(kubeapi, "cls-stage01", cert=False),
    )
    return keys
