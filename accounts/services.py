"""Writes for cloud accounts and registry credentials: store, audit, queue checks.

Every function here is what both the web forms and the management commands call, so the
same validation and the same audit trail apply wherever onboarding starts.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts import cloud
from accounts.kubeconfig import KubeContext, ValidatedKubeconfig, validate_kubeconfig
from accounts.models import CloudAccount, RegistryCredential
from accounts.registry import RegistryError, registry_verify
from clusters.models import Cluster
from dashboard.audit import audit_record
from dashboard.models import AuditEvent

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A domain error with a message for a person (shown in forms and by commands)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- clusters from connections ----------------------------------------------------------


def _unique_cluster_name(base: str) -> str:
    base = (slugify(base) or "cluster")[:90]
    name, n = base, 2
    while Cluster.objects.filter(name=name).exists():
        name, n = f"{base}-{n}", n + 1
    return name


def _cluster_create(
    *,
    account: CloudAccount,
    context: KubeContext,
    name: str = "",
    tke_cluster_id: str = "",
    tke_region: str = "",
) -> Cluster:
    return Cluster.objects.create(
        account=account,
        name=_unique_cluster_name(name or context.name),
        context_name=context.name,
        server=context.server,
        connection=json.dumps(context.to_dict()),
        insecure=context.insecure_skip_tls_verify,
        tke_cluster_id=tke_cluster_id,
        tke_region=tke_region,
    )


def cluster_check_queue(cluster: Cluster) -> None:
    """Mark the cluster as being checked and queue the check once the row is committed."""
    from clusters.tasks import check_cluster

    Cluster.objects.filter(pk=cluster.pk).update(check_status=Cluster.Check.CHECKING)
    cluster.check_status = Cluster.Check.CHECKING
    check_cluster.delay_on_commit(cluster.pk)


def _unique_account_name(name: str) -> None:
    if CloudAccount.objects.filter(name=name).exists():
        raise ApplicationError(
            _('A cloud account named "%(name)s" already exists.') % {"name": name}
        )


# --- cloud accounts ---------------------------------------------------------------------


@transaction.atomic
def kubeconfig_account_create(
    *, actor, name: str, kubeconfig: str, validated: ValidatedKubeconfig | None = None
) -> CloudAccount:
    """Store a kubeconfig account; each context becomes a cluster, each checked by a task."""
    validated = validated or validate_kubeconfig(kubeconfig)
    _unique_account_name(name)
    account = CloudAccount.objects.create(
        name=name,
        kind=CloudAccount.Kind.KUBECONFIG,
        owner=_user(actor),
        kubeconfig=kubeconfig,
        warnings=list(validated.warnings),
    )
    for context in validated.contexts:
        cluster_check_queue(_cluster_create(account=account, context=context))
    audit_record(
        actor=actor,
        verb="account.create",
        target=account,
        detail=f"kind=kubeconfig clusters={len(validated.contexts)}",
    )
    return account


@transaction.atomic
def serviceaccount_account_create(*, actor, name: str, context: KubeContext) -> CloudAccount:
    _unique_account_name(name)
    account = CloudAccount.objects.create(
        name=name,
        kind=CloudAccount.Kind.SERVICEACCOUNT,
        owner=_user(actor),
        api_url=context.server,
        sa_token=context.token or "",
        ca_pem=context.ca_pem or "",
    )
    cluster_check_queue(_cluster_create(account=account, context=context, name=name))
    audit_record(actor=actor, verb="account.create", target=account, detail="kind=serviceaccount")
    return account


@dataclass(frozen=True)
class TkeImportFailure:
    cluster_id: str
    message: str


def tke_account_create(
    *,
    actor,
    name: str,
    secret_id: str,
    secret_key: str,
    region: str,
    cluster_ids: list[str] | None,
    extranet: bool,
) -> tuple[CloudAccount, list[TkeImportFailure]]:
    """Discover the account's clusters, fetch each kubeconfig, store what worked.

    A key TKE rejects raises ``TkeError`` before anything is stored. A cluster whose
    kubeconfig cannot be fetched (endpoint not enabled) is reported, not fatal, unless no
    cluster at all could be imported: then nothing is stored (``ApplicationError``).
    """
    _unique_account_name(name)
    found = cloud.tke_describe_clusters(
        secret_id=secret_id, secret_key=secret_key, region=region, cluster_ids=cluster_ids or None
    )
    if cluster_ids:
        unknown = sorted(set(cluster_ids) - {c.cluster_id for c in found})
        if unknown:
            raise ApplicationError(
                _("TKE has no cluster %(ids)s in region %(region)s.")
                % {"ids": ", ".join(unknown), "region": region}
            )
    contexts: list[tuple[cloud.TkeCluster, KubeContext]] = []
    failures: list[TkeImportFailure] = []
    for tke in found:
        try:
            text = cloud.tke_cluster_kubeconfig(
                secret_id=secret_id,
                secret_key=secret_key,
                region=region,
                cluster_id=tke.cluster_id,
                extranet=extranet,
            )
            validated = validate_kubeconfig(text)
        except cloud.TkeError as exc:
            failures.append(TkeImportFailure(tke.cluster_id, exc.message))
            continue
        except Exception as exc:  # KubeconfigError: TKE handed back something unusable
            failures.append(TkeImportFailure(tke.cluster_id, getattr(exc, "message", str(exc))))
            continue
        contexts.append((tke, validated.contexts[0]))
    if not contexts:
        # An account without clusters is of no use and its name would block a second try
        # with the other endpoint: refuse, saying why for each cluster.
        if not failures:
            raise ApplicationError(
                _("TKE lists no cluster for these keys in region %(region)s.") % {"region": region}
            )
        raise ApplicationError(
            _("No cluster could be imported. %(reasons)s")
            % {"reasons": " ".join(f"{f.cluster_id}: {f.message}" for f in failures)}
        )

    with transaction.atomic():
        account = CloudAccount.objects.create(
            name=name,
            kind=CloudAccount.Kind.TKE,
            owner=_user(actor),
            tke_secret_id=secret_id,
            tke_secret_key=secret_key,
            tke_region=region,
            tke_extranet=extranet,
        )
        for tke, context in contexts:
            cluster = _cluster_create(
                account=account,
                context=context,
                name=tke.name or tke.cluster_id,
                tke_cluster_id=tke.cluster_id,
                tke_region=region,
            )
            cluster_check_queue(cluster)
        audit_record(
            actor=actor,
            verb="account.create",
            target=account,
            detail=f"kind=tke region={region} clusters={len(contexts)} failed={len(failures)}",
            outcome=AuditEvent.Outcome.SUCCESS if not failures else AuditEvent.Outcome.FAILURE,
        )
        _tke_default_policy(actor=actor, account=account)
    return account, failures


def tke_default_credential(user) -> RegistryCredential | None:
    """The credential a TKE onboarding by ``user`` puts into the clusters, if any."""
    return (
        RegistryCredential.objects.filter(owner=user, is_default=True).first()
        or RegistryCredential.objects.filter(owner=user).order_by("created", "pk").first()
    )


def tke_secret_name(user) -> str:
    return f"{settings.REGCRED_TKE_SECRET_PREFIX}{user.pk}"


def _tke_default_policy(*, actor, account: CloudAccount) -> None:
    """As in the seed: the adder's default credential goes in as coding-registry-cred-<id>."""
    from clusters.services import policy_create

    user = _user(actor)
    credential = tke_default_credential(user) if user else None
    if credential is None:
        return
    policy_create(
        actor=actor,
        name=f"{account.name}-{tke_secret_name(user)}"[:100],
        credential=credential,
        account=account,
        secret_name=tke_secret_name(user),
    )


@transaction.atomic
def account_update(
    *,
    actor,
    account: CloudAccount,
    name: str,
    secret_key: str = "",
    token: str = "",
) -> CloudAccount:
    """Rename, and replace a secret only when a new one was typed in (blank keeps the old)."""
    changed = []
    if name != account.name:
        if CloudAccount.objects.exclude(pk=account.pk).filter(name=name).exists():
            raise ApplicationError(
                _('A cloud account named "%(name)s" already exists.') % {"name": name}
            )
        account.name = name
        changed.append("name")
    if secret_key and account.kind == CloudAccount.Kind.TKE:
        account.tke_secret_key = secret_key
        changed.append("secret key")
    if token and account.kind == CloudAccount.Kind.SERVICEACCOUNT:
        account.sa_token = token
        changed.append("token")
        for cluster in account.clusters.all():
            context = KubeContext.from_dict(json.loads(cluster.connection))
            data = context.to_dict() | {"token": token}
            cluster.connection = json.dumps(data)
            cluster.save(update_fields=["connection"])
            cluster_check_queue(cluster)
    account.save()
    audit_record(
        actor=actor,
        verb="account.update",
        target=account,
        detail="changed: " + (", ".join(changed) or "nothing"),
    )
    return account


@transaction.atomic
def account_delete(*, actor, account: CloudAccount) -> None:
    """Forget the account and its clusters here; Secrets already in the clusters stay."""
    name, clusters = account.name, account.clusters.count()
    audit_record(
        actor=actor,
        verb="account.delete",
        target=account,
        target_name=name,
        detail=f"clusters forgotten={clusters}",
    )
    account.delete()


# --- registry credentials ---------------------------------------------------------------


@transaction.atomic
def credential_create(
    *,
    actor,
    name: str,
    server: str,
    username: str,
    password: str,
    email: str = "",
    ca_pem: str = "",
    is_default: bool = False,
    verify: bool = True,
) -> RegistryCredential:
    if RegistryCredential.objects.filter(name=name).exists():
        raise ApplicationError(
            _('A registry credential named "%(name)s" already exists.') % {"name": name}
        )
    owner = _user(actor)
    if is_default and owner:
        RegistryCredential.objects.filter(owner=owner, is_default=True).update(is_default=False)
    credential = RegistryCredential.objects.create(
        name=name,
        server=server,
        username=username,
        password=password,
        email=email,
        ca_pem=ca_pem,
        owner=owner,
        is_default=is_default,
    )
    audit_record(
        actor=actor,
        verb="credential.create",
        target=credential,
        detail=f"server={server} username={username}",
    )
    if verify:
        credential_verify_queue(credential)
    return credential


@transaction.atomic
def credential_update(
    *,
    actor,
    credential: RegistryCredential,
    name: str,
    server: str,
    username: str,
    password: str = "",
    email: str = "",
    ca_pem: str = "",
    is_default: bool = False,
    verify: bool = True,
) -> RegistryCredential:
    """Edit; a blank password keeps the stored one. Policies pick up the change on next sync."""
    if RegistryCredential.objects.exclude(pk=credential.pk).filter(name=name).exists():
        raise ApplicationError(
            _('A registry credential named "%(name)s" already exists.') % {"name": name}
        )
    changed = [
        field
        for field, value in (
            ("name", name),
            ("server", server),
            ("username", username),
            ("email", email),
            ("ca_pem", ca_pem),
            ("is_default", is_default),
        )
        if getattr(credential, field) != value
    ]
    if password:
        changed.append("password")
        credential.password = password
    if is_default and credential.owner_id:
        RegistryCredential.objects.filter(owner_id=credential.owner_id, is_default=True).exclude(
            pk=credential.pk
        ).update(is_default=False)
    credential.name, credential.server, credential.username = name, server, username
    credential.email, credential.is_default = email, is_default
    credential.ca_pem = ca_pem
    if {"server", "username", "password", "ca_pem"} & set(changed):
        credential.verification = RegistryCredential.Verification.UNKNOWN
        credential.verification_message = ""
    credential.save()
    audit_record(
        actor=actor,
        verb="credential.update",
        target=credential,
        detail="changed: " + (", ".join(changed) or "nothing"),
    )
    if verify:
        credential_verify_queue(credential)
    return credential


@transaction.atomic
def credential_delete(*, actor, credential: RegistryCredential) -> None:
    if credential.policies.exists():
        raise ApplicationError(
            _("Policies still use this credential: %(names)s. Delete or change them first.")
            % {"names": ", ".join(credential.policies.values_list("name", flat=True))}
        )
    audit_record(
        actor=actor, verb="credential.delete", target=credential, target_name=credential.name
    )
    credential.delete()


def credential_verify_queue(credential: RegistryCredential) -> None:
    from accounts.tasks import verify_credential

    RegistryCredential.objects.filter(pk=credential.pk).update(
        verification=RegistryCredential.Verification.CHECKING
    )
    credential.verification = RegistryCredential.Verification.CHECKING
    verify_credential.delay_on_commit(credential.pk)


def credential_verify(*, credential_id: int) -> RegistryCredential | None:
    """Log in to the registry's /v2/ and record the outcome on the row."""
    credential = RegistryCredential.objects.filter(pk=credential_id).first()
    if credential is None:
        return None
    try:
        result = registry_verify(
            server=credential.server,
            username=credential.username,
            password=credential.password,
            ca_pem=credential.ca_pem or None,
        )
        state, message = RegistryCredential.Verification.VERIFIED, result.message
    except RegistryError as exc:
        state, message = RegistryCredential.Verification.FAILED, exc.message
    RegistryCredential.objects.filter(pk=credential.pk).update(
        verification=state, verification_message=message, verified_at=timezone.now()
    )
    audit_record(
        actor=None,
        verb="credential.verify",
        target=credential,
        outcome="success" if state == "verified" else "failure",
        detail=message,
    )
    credential.refresh_from_db()
    return credential


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None
