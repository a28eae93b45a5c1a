"""Writing the audit log: one function, used by every service that changes something."""

from __future__ import annotations

from django.db import models

from dashboard.models import AuditEvent


def audit_record(
    *,
    actor,
    verb: str,
    target: models.Model | None = None,
    target_name: str = "",
    cluster: str = "",
    namespace: str = "",
    outcome: str = AuditEvent.Outcome.SUCCESS,
    detail: str = "",
) -> AuditEvent:
    """Append one event. Callers pass names and outcomes only, never credential values."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=user.get_username() if user else (str(actor) if actor else "system"),
        verb=verb,
        target_type=target._meta.model_name if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_name=target_name or (str(target) if target is not None else ""),
        cluster=cluster,
        namespace=namespace,
        outcome=outcome,
        detail=detail[:2000],
    )
