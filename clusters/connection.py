"""Opening a client for a stored cluster."""

from __future__ import annotations

import json

from accounts.kubeconfig import KubeContext
from clusters.kube import KubeClient
from clusters.models import Cluster


def cluster_client(cluster: Cluster, **options) -> KubeClient:
    """A client built only from the cluster's validated, decrypted inline connection data."""
    return KubeClient(KubeContext.from_dict(json.loads(cluster.connection)), **options)
