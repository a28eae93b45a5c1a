from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from accounts import services
from accounts.cloud import TkeError, tke_describe_clusters
from accounts.encryption import decrypt, encrypt
from accounts.forms import (
    AccountEditForm,
    KubeconfigAccountForm,
    RegistryCredentialForm,
    ServiceAccountForm,
    TkeAccountForm,
    TkePickForm,
)
from accounts.models import CloudAccount, RegistryCredential
from clusters.permissions import service_account_setup_yaml, service_account_token_commands
from clusters.snippets import deployment
from dashboard.roles import OPERATOR, role_required

# Kept out of Django's error reports (the DEBUG page, mail to admins) if a view ever crashes.
_secret_fields = sensitive_post_parameters("kubeconfig", "token", "secret_key", "password")


def _get_account(account_id: int) -> CloudAccount:
    return get_object_or_404(CloudAccount, pk=account_id)


def _get_credential(credential_id: int) -> RegistryCredential:
    return get_object_or_404(RegistryCredential, pk=credential_id)


# --- cloud accounts ---------------------------------------------------------------------


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    accounts = CloudAccount.objects.select_related("owner").annotate(
        cluster_count=Count("clusters"),
        reachable_count=Count("clusters", filter=Q(clusters__check_status="ok")),
        checking_count=Count(
            "clusters", filter=Q(clusters__check_status__in=["checking", "pending"])
        ),
    )
    if query:
        accounts = accounts.filter(name__icontains=query)
    page = Paginator(accounts.order_by("name"), 50).get_page(request.GET.get("page"))
    template = "accounts/list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#table"
    return render(request, template, {"page": page, "query": query})


@role_required(OPERATOR)
def account_new(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/new.html")


@_secret_fields
@role_required(OPERATOR)
def account_new_kubeconfig(request: HttpRequest) -> HttpResponse:
    dropped = (
        request.method == "POST"
        and "upload" not in request.FILES
        and int(request.META.get("CONTENT_LENGTH") or 0) > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    )
    form = KubeconfigAccountForm(
        request.POST or None, request.FILES or None, upload_dropped=dropped
    )
    if request.method == "POST" and form.is_valid():
        try:
            account = services.kubeconfig_account_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                kubeconfig=form.cleaned_data["kubeconfig_text"],
                validated=form.validated,
            )
        except services.ApplicationError as exc:
            form.add_error("name", exc.message)
        else:
            for warning in account.warnings:
                messages.warning(request, warning)
            messages.success(request, _("Account added; checking its clusters now."))
            return redirect("accounts:detail", account.pk)
    return render(
        request, "accounts/new_kubeconfig.html", {"form": form}, status=400 if form.errors else 200
    )


@_secret_fields
@role_required(OPERATOR)
def account_new_serviceaccount(request: HttpRequest) -> HttpResponse:
    form = ServiceAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.serviceaccount_account_create(
                actor=request.user, name=form.cleaned_data["name"], context=form.context
            )
        except services.ApplicationError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, _("Account added; checking the cluster now."))
            return redirect("accounts:detail", account.pk)
    context = {
        "form": form,
        "setup_yaml": service_account_setup_yaml(),
        "token_commands": service_account_token_commands(),
    }
    return render(
        request, "accounts/new_serviceaccount.html", context, status=400 if form.errors else 200
    )


@_secret_fields
@role_required(OPERATOR)
def account_new_tke(request: HttpRequest) -> HttpResponse:
    form = TkeAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and "discover" in request.POST:
        try:
            _tke_pending_save(request, form.cleaned_data)
        except TkeError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("accounts:new-tke-pick")
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            account, failures = services.tke_account_create(
                actor=request.user,
                name=data["name"],
                secret_id=data["secret_id"],
                secret_key=data["secret_key"],
                region=data["region"],
                cluster_ids=data["cluster_ids"],
                extranet=data["endpoint"] == "public",
            )
        except TkeError as exc:
            form.add_error(None, exc.message)
        except services.ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            for failure in failures:
                messages.error(request, f"{failure.cluster_id}: {failure.message}")
            messages.success(request, _("TKE account added; checking its clusters now."))
            return redirect("accounts:detail", account.pk)
    context = {
        "form": form,
        "secret_name": services.tke_secret_name(request.user),
        "default_credential": services.tke_default_credential(request.user),
    }
    return render(request, "accounts/new_tke.html", context, status=400 if form.errors else 200)


TKE_PENDING = "tke_pending"
TKE_PENDING_SECONDS = 15 * 60


def _tke_pending_save(request: HttpRequest, data: dict) -> None:
    """Discover the clusters and keep the keys for the pick step, the SecretKey encrypted.

    The key never goes back to the browser: it waits in the server-side session, Fernet-
    encrypted like every stored credential, for at most a quarter of an hour.
    """
    found = tke_describe_clusters(
        secret_id=data["secret_id"],
        secret_key=data["secret_key"],
        region=data["region"],
        cluster_ids=data["cluster_ids"] or None,
    )
    request.session[TKE_PENDING] = {
        "name": data["name"],
        "secret_id": data["secret_id"],
        "secret_key": encrypt(data["secret_key"]),
        "region": data["region"],
        "endpoint": data["endpoint"],
        "at": time.time(),
        "clusters": [
            {"id": c.cluster_id, "name": c.name, "version": c.version, "status": c.status}
            for c in found
        ],
    }


@_secret_fields
@role_required(OPERATOR)
def account_new_tke_pick(request: HttpRequest) -> HttpResponse:
    pending = request.session.get(TKE_PENDING)
    if not pending or time.time() - pending["at"] > TKE_PENDING_SECONDS:
        request.session.pop(TKE_PENDING, None)
        messages.info(request, _("Enter the TKE keys again to find the clusters."))
        return redirect("accounts:new-tke")
    form = TkePickForm(
        request.POST or None,
        discovered=pending["clusters"],
        initial={
            "clusters": [c["id"] for c in pending["clusters"]],
            "endpoint": pending["endpoint"],
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            account, failures = services.tke_account_create(
                actor=request.user,
                name=pending["name"],
                secret_id=pending["secret_id"],
                secret_key=decrypt(pending["secret_key"]),
                region=pending["region"],
                cluster_ids=form.cleaned_data["clusters"],
                extranet=form.cleaned_data["endpoint"] == "public",
            )
        except (TkeError, services.ApplicationError) as exc:
            form.add_error(None, exc.message)
        else:
            request.session.pop(TKE_PENDING, None)
            for failure in failures:
                messages.error(request, f"{failure.cluster_id}: {failure.message}")
            messages.success(request, _("TKE account added; checking its clusters now."))
            return redirect("accounts:detail", account.pk)
    return render(
        request,
        "accounts/new_tke_pick.html",
        {"form": form, "pending": pending},
        status=400 if form.errors else 200,
    )


@login_required
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _get_account(account_id)
    clusters = account.clusters.order_by("name")
    policies = list(account.policies.select_related("credential"))
    # As the seed product does: right after a TKE account is added, show how to use its Secret.
    sample = None
    if account.kind == CloudAccount.Kind.TKE and policies:
        sample = deployment(secret_name=policies[0].secret_name, namespace="default")
    return render(
        request,
        "accounts/detail.html",
        {"account": account, "clusters": clusters, "policies": policies, "sample": sample},
    )


@_secret_fields
@role_required(OPERATOR)
def account_edit(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _get_account(account_id)
    form = AccountEditForm(request.POST or None, kind=account.kind, initial={"name": account.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(actor=request.user, account=account, **form.cleaned_data)
        except services.ApplicationError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, _("Account saved."))
            return redirect("accounts:detail", account.pk)
    return render(
        request,
        "accounts/edit.html",
        {"form": form, "account": account},
        status=400 if form.errors else 200,
    )


@role_required(OPERATOR)
def account_delete(request: HttpRequest, account_id: int) -> HttpResponse:
    account = _get_account(account_id)
    if request.method == "POST":
        services.account_delete(actor=request.user, account=account)
        messages.success(request, _("Account %(name)s deleted.") % {"name": account.name})
        return redirect("accounts:list")
    return render(
        request,
        "accounts/delete.html",
        {
            "account": account,
            "clusters": account.clusters.all(),
            "policies": account.policies.all(),
        },
    )


# --- registry credentials ---------------------------------------------------------------


@login_required
def credential_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    credentials = RegistryCredential.objects.select_related("owner").annotate(
        policy_count=Count("policies")
    )
    if query:
        credentials = credentials.filter(Q(name__icontains=query) | Q(server__icontains=query))
    page = Paginator(credentials.order_by("name"), 50).get_page(request.GET.get("page"))
    template = "accounts/credential_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#table"
    return render(request, template, {"page": page, "query": query})


@_secret_fields
@role_required(OPERATOR)
def credential_new(request: HttpRequest) -> HttpResponse:
    form = RegistryCredentialForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            credential = services.credential_create(actor=request.user, **form.cleaned_data)
        except services.ApplicationError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, _("Credential saved."))
            return redirect("accounts:credential-detail", credential.pk)
    return render(
        request, "accounts/credential_form.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
def credential_detail(request: HttpRequest, credential_id: int) -> HttpResponse:
    credential = _get_credential(credential_id)
    return render(
        request,
        "accounts/credential_detail.html",
        {
            "credential": credential,
            "policies": credential.policies.select_related("cluster"),
        },
    )


@_secret_fields
@role_required(OPERATOR)
def credential_edit(request: HttpRequest, credential_id: int) -> HttpResponse:
    credential = _get_credential(credential_id)
    initial = {
        f: getattr(credential, f)
        for f in ("name", "server", "username", "email", "ca_pem", "is_default")
    }
    form = RegistryCredentialForm(
        request.POST or None, initial=initial | {"verify": True}, editing=True
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.credential_update(
                actor=request.user, credential=credential, **form.cleaned_data
            )
        except services.ApplicationError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, _("Credential saved."))
            return redirect("accounts:credential-detail", credential.pk)
    return render(
        request,
        "accounts/credential_form.html",
        {"form": form, "credential": credential},
        status=400 if form.errors else 200,
    )


@role_required(OPERATOR)
def credential_delete(request: HttpRequest, credential_id: int) -> HttpResponse:
    credential = _get_credential(credential_id)
    if request.method == "POST":
        try:
            services.credential_delete(actor=request.user, credential=credential)
        except services.ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("accounts:credential-detail", credential.pk)
        messages.success(request, _("Credential %(name)s deleted.") % {"name": credential.name})
        return redirect("accounts:credential-list")
    return render(
        request,
        "accounts/credential_delete.html",
        {"credential": credential, "policies": credential.policies.all()},
    )


@role_required(OPERATOR)
@require_POST
def credential_verify(request: HttpRequest, credential_id: int) -> HttpResponse:
    credential = _get_credential(credential_id)
    services.credential_verify_queue(credential)
    if request.htmx:
        return render(request, "accounts/partials/verification.html", {"credential": credential})
    return redirect("accounts:credential-detail", credential.pk)


@login_required
def credential_verification(request: HttpRequest, credential_id: int) -> HttpResponse:
    """The verification badge, polled while a check runs."""
    credential = _get_credential(credential_id)
    response = render(request, "accounts/partials/verification.html", {"credential": credential})
    if credential.verification != RegistryCredential.Verification.CHECKING:
        stop = HttpResponseStopPolling(response.content)
        return stop
    return response
