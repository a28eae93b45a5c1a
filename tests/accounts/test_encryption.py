"""Credentials at rest: Fernet-encrypted columns, and rotating to a new key."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from accounts.models import CloudAccount, RegistryCredential
from clusters.models import Cluster
from tests.factories import ClusterFactory, RegistryCredentialFactory

pytestmark = pytest.mark.django_db

OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def raw(model, column: str, pk: int) -> str:
    """The column's value as stored, read with plain SQL."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name(column)} FROM {table} WHERE id = %s",  # noqa: S608
            [pk],
        )
        return cursor.fetchone()[0]


@pytest.fixture
def old_key(settings):
    settings.REGCRED_ENCRYPTION_KEYS = [OLD_KEY]
    return settings


def test_secrets_are_stored_as_fernet_tokens_and_read_back_in_plaintext(old_key):
    account = CloudAccount.objects.create(
        name="tencent", kind="tke", tke_secret_id="AKIDx", tke_secret_key="tke-key-plain"
    )

    stored = raw(CloudAccount, "tke_secret_key", account.pk)

    assert stored != "tke-key-plain" and "tke-key-plain" not in stored
    assert Fernet(OLD_KEY.encode()).decrypt(stored.encode()) == b"tke-key-plain"
    assert CloudAccount.objects.get().tke_secret_key == "tke-key-plain"


def test_the_same_secret_is_stored_differently_each_time(old_key):
    first = RegistryCredentialFactory(password="same-password")
    second = RegistryCredentialFactory(password="same-password")

    assert raw(RegistryCredential, "password", first.pk) != raw(
        RegistryCredential, "password", second.pk
    )


def test_a_secret_never_set_stays_empty_so_queries_can_tell(old_key):
    account = CloudAccount.objects.create(name="kc", kind="kubeconfig", kubeconfig="config")

    assert raw(CloudAccount, "sa_token", account.pk) == ""
    assert CloudAccount.objects.filter(sa_token="").count() == 1


def test_rotation_re_encrypts_every_secret_with_the_newest_key(settings, old_key):
    account = CloudAccount.objects.create(
        name="sa", kind="serviceaccount", api_url="https://k8s.example.com", sa_token="sa-token"
    )
    cluster = ClusterFactory(account=account)
    credential = RegistryCredentialFactory(password="registry-password")
    settings.REGCRED_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    out = io.StringIO()

    call_command("rotate_encryption_keys", stdout=out)

    new_only = Fernet(NEW_KEY.encode())
    assert new_only.decrypt(raw(CloudAccount, "sa_token", account.pk).encode()) == b"sa-token"
    assert new_only.decrypt(raw(RegistryCredential, "password", credential.pk).encode()) == (
        b"registry-password"
    )
    assert b'"token": "factory-token"' in new_only.decrypt(
        raw(Cluster, "connection", cluster.pk).encode()
    )
    with pytest.raises(InvalidToken):
        Fernet(OLD_KEY.encode()).decrypt(raw(CloudAccount, "sa_token", account.pk).encode())
    assert "accounts.CloudAccount: 1 rows (tke_secret_key, kubeconfig, sa_token)" in out.getvalue()
    assert "Re-encrypted 3 rows with the newest key." in out.getvalue()

    # The old key can now be dropped.
    settings.REGCRED_ENCRYPTION_KEYS = [NEW_KEY]
    assert CloudAccount.objects.get(pk=account.pk).sa_token == "sa-token"
    assert Cluster.objects.get().connection == cluster.connection


def test_dropping_a_key_before_rotating_says_which_setting_to_fix(settings, old_key):
    RegistryCredentialFactory(password="registry-password")
    settings.REGCRED_ENCRYPTION_KEYS = [NEW_KEY]

    with pytest.raises(ImproperlyConfigured) as caught:
        RegistryCredential.objects.get()

    assert "REGCRED_ENCRYPTION_KEYS" in str(caught.value)
    assert "rotate_encryption_keys" in str(caught.value)
    assert "registry-password" not in str(caught.value)


def test_a_value_that_is_not_a_fernet_key_is_refused_plainly(settings):
    settings.REGCRED_ENCRYPTION_KEYS = ["not-a-key"]

    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        RegistryCredentialFactory()
