"""Writes that belong to the dashboard itself: users and their roles."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from dashboard.audit import audit_record
from dashboard.roles import ROLES


@transaction.atomic
def user_set_role(*, actor, user, role: str) -> None:
    """Give ``user`` exactly one role (or none, with an empty string)."""
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    audit_record(
        actor=actor,
        verb="user.role",
        target=user,
        target_name=user.username,
        detail=f"role={role or 'none'}",
    )


@transaction.atomic
def user_create(*, actor, username: str, email: str, password: str, role: str):
    user = get_user_model().objects.create_user(username=username, email=email, password=password)
    user_set_role(actor=actor, user=user, role=role)
    audit_record(actor=actor, verb="user.create", target=user, target_name=username)
    return user
