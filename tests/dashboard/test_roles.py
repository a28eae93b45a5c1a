from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from dashboard.models import AuditEvent
from dashboard.roles import has_role, user_role


@pytest.mark.django_db
def test_the_three_roles_exist_after_migrating():
    assert set(Group.objects.values_list("name", flat=True)) >= {"viewer", "operator", "admin"}


def test_each_persona_holds_its_role(viewer, operator, admin_user, nobody):
    assert [user_role(u) for u in (viewer, operator, admin_user, nobody)] == [
        "viewer",
        "operator",
        "admin",
        None,
    ]


def test_roles_are_ranked(viewer, operator, admin_user):
    assert has_role(operator, "viewer") and not has_role(operator, "admin")
    assert has_role(admin_user, "operator") and not has_role(viewer, "operator")


def test_a_superuser_counts_as_admin(django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x")
    assert user_role(root) == "admin"


def test_an_inactive_user_holds_no_role(operator):
    operator.is_active = False
    assert user_role(operator) is None


def test_viewer_cannot_open_user_management(viewer_client):
    response = viewer_client.get(reverse("users"))
    assert response.status_code == 403
    assert b"You are not allowed to do that" in response.content


def test_operator_cannot_change_roles(operator_client, viewer):
    response = operator_client.post(reverse("user-role", args=[viewer.pk]), {"role": "admin"})
    assert response.status_code == 403
    assert user_role(viewer) == "viewer"


def test_admin_gives_a_user_a_role_and_it_is_audited(admin_client_, viewer, admin_user):
    response = admin_client_.post(reverse("user-role", args=[viewer.pk]), {"role": "operator"})
    assert response.status_code == 302
    viewer.refresh_from_db()
    assert user_role(type(viewer).objects.get(pk=viewer.pk)) == "operator"
    event = AuditEvent.objects.get(verb="user.role")
    assert (event.actor, event.target_name, event.detail) == (admin_user, "vera", "role=operator")


def test_admin_cannot_demote_themselves(admin_client_, admin_user):
    admin_client_.post(reverse("user-role", args=[admin_user.pk]), {"role": "viewer"})
    assert user_role(type(admin_user).objects.get(pk=admin_user.pk)) == "admin"


def test_admin_creates_a_user_with_a_role(admin_client_, django_user_model):
    response = admin_client_.post(
        reverse("user-create"),
        {
            "username": "newbie",
            "email": "n@example.com",
            "password": "a-long-enough-pass-42",
            "role": "viewer",
        },
    )
    assert response.status_code == 302
    newbie = django_user_model.objects.get(username="newbie")
    assert user_role(newbie) == "viewer" and newbie.check_password("a-long-enough-pass-42")
    assert AuditEvent.objects.filter(verb="user.create", target_name="newbie").exists()


def test_creating_a_user_with_a_weak_password_shows_why(admin_client_, django_user_model):
    response = admin_client_.post(
        reverse("user-create"), {"username": "weak", "password": "123", "role": "viewer"}
    )
    assert response.status_code == 400
    assert b"This password is too short" in response.content
    assert not django_user_model.objects.filter(username="weak").exists()


def test_creating_a_duplicate_username_is_refused(admin_client_, viewer):
    response = admin_client_.post(
        reverse("user-create"),
        {"username": "VERA", "password": "a-long-enough-pass-42", "role": "viewer"},
    )
    assert b"A user with that username already exists." in response.content


def test_a_user_without_a_role_is_told_to_ask_an_admin(client, nobody):
    client.force_login(nobody)
    assert b"Your account has no role yet" in client.get(reverse("home")).content
