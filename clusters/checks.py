"""Connection checks: can we reach the cluster, which version, which permissions."""

from __future__ import annotations

import logging

from django.utils import timezone
from django.utils.translation import gettext as _

from clusters.connection import cluster_client
from clusters.kube import KubeError
from clusters.models import Cluster
from clusters.permissions import REQUIRED
from dashboard.audit import audit_record

logger = logging.getLogger(__name__)


def cluster_check(*, cluster_id: int) -> Cluster | None:
    """Reachability, version and every permission we need; the outcome lands on the row."""
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        return None
    fields: dict = {"checked_at": timezone.now()}
    try:
        with cluster_client(cluster, retries=1) as client:
            version = client.version()
            permissions = {
                perm.key: client.can_i(perm.verb, perm.resource, group=perm.group)
                for perm in REQUIRED
            }
    except KubeError as exc:
        fields |= {
            "check_status": Cluster.Check.ERROR
            if exc.status in (401, 403)
            else Cluster.Check.UNREACHABLE,
            "check_message": exc.message,
        }
    except Exception as exc:
        # Anything else (a stored connection that no longer loads, a client bug) must still
        # end the check, or the page polls "Checking" for ever. The type only: no values.
        logger.exception("connection check of cluster %s crashed", cluster.pk)
        fields |= {
            "check_status": Cluster.Check.ERROR,
            "check_message": _("Internal error while checking the cluster: %(kind)s")
            % {"kind": type(exc).__name__},
        }
    else:
        missing = sorted(k for k, ok in permissions.items() if not ok)
        fields |= {
            "check_status": Cluster.Check.OK,
            "version": version.get("gitVersion", ""),
            "permissions": permissions,
            "check_message": _("Missing permissions: %(list)s") % {"list": ", ".join(missing)}
            if missing
            else "",
        }
    Cluster.objects.filter(pk=cluster.pk).update(**fields)
    cluster.refresh_from_db()
    audit_record(
        actor=None,
        verb="cluster.check",
        target=cluster,
        cluster=cluster.name,
        outcome="success" if cluster.check_status == Cluster.Check.OK else "failure",
        detail=cluster.check_message,
    )
    return cluster
