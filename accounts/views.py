from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.models import CloudAccount, RegistryCredential


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    accounts = CloudAccount.objects.select_related("owner").order_by("name")
    return render(request, "accounts/list.html", {"accounts": accounts})


@login_required
def credential_list(request: HttpRequest) -> HttpResponse:
    credentials = RegistryCredential.objects.select_related("owner").order_by("name")
    return render(request, "accounts/credential_list.html", {"credentials": credentials})
