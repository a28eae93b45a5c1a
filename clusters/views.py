from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from clusters.models import Cluster


@login_required
def cluster_list(request: HttpRequest) -> HttpResponse:
    clusters = Cluster.objects.select_related("account").order_by("name")
    return render(request, "clusters/list.html", {"clusters": clusters})
