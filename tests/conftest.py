from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

pytest_plugins = [
    "tests.kubeapi.fixtures",
    "tests.tkeapi.fixtures",
    "tests.registry.fixtures",
]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _person(django_user_model, username: str, role: str | None):
    user = django_user_model.objects.create_user(username=username, password="pw-" + username)
    if role:
        # get_or_create: transactional tests flush the groups the migration made.
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


@pytest.fixture
def viewer(db, django_user_model):
    return _person(django_user_model, "vera", "viewer")


@pytest.fixture
def operator(db, django_user_model):
    return _person(django_user_model, "otto", "operator")


@pytest.fixture
def admin_user(db, django_user_model):
    return _person(django_user_model, "ada", "admin")


@pytest.fixture
def nobody(db, django_user_model):
    """Signed in but given no role yet."""
    return _person(django_user_model, "nemo", None)


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def admin_client_(client, admin_user):
    client.force_login(admin_user)
    return client
