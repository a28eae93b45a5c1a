from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseStopPolling

from accounts.services import cluster_check_queue
from clusters import selectors, services, snippets
from clusters.forms import (
    ClusterRenameForm,
    CoverageFilterForm,
    NamespaceFilterForm,
    PolicyForm,
    WorkloadFilterForm,
)
from clusters.models import Cluster, PullSecretPolicy, SecretStatus, SyncRun
from clusters.permissions import cluster_role_yaml
from dashboard.audit import audit_record
from dashboard.csvexport import stream_csv
from dashboard.roles import OPERATOR, role_required


def _get_cluster(cluster_id: int) -> Cluster:
    return get_object_or_404(Cluster.objects.select_related("account"), pk=cluster_id)


@login_required
def cluster_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    clusters = selectors.cluster_rows(query=query, status=status)
    page = Paginator(clusters, 50).get_page(request.GET.get("page"))
    template = "clusters/list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#table"
    return render(
        request,
        template,
        {"page": page, "query": query, "status": status, "statuses": Cluster.Check.choices},
    )


@login_required
def cluster_detail(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = _get_cluster(cluster_id)
    form = NamespaceFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = selectors.namespace_statuses(
        cluster, query=filters.get("q", ""), status=filters.get("status", "")
    )
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    template = "clusters/detail.html"
    if request.htmx and not request.htmx.boosted:
        template += "#namespaces"
    missing = cluster.missing_permissions
    context = {
        "cluster": cluster,
        "missing_rbac": cluster_role_yaml(missing) if missing else "",
        "rename_form": ClusterRenameForm(initial={"name": cluster.name}),
        "page": page,
        "filter_form": form,
        "counts": selectors.status_counts(cluster=cluster),
        "policies": selectors.cluster_policies(cluster),
        "runs": cluster.sync_runs.select_related("policy", "created_by")[:5],
        "namespace_total": cluster.namespaces.filter(gone=False).count(),
    }
    return render(request, template, context)


@login_required
def cluster_check_status(request: HttpRequest, cluster_id: int) -> HttpResponse:
    """The connection-check badge; polled every second while the check runs."""
    cluster = _get_cluster(cluster_id)
    response = render(request, "clusters/partials/check_status.html", {"cluster": cluster})
    if cluster.check_status in (Cluster.Check.CHECKING, Cluster.Check.PENDING):
        return response
    return HttpResponseStopPolling(response.content)


@role_required(OPERATOR)
@require_POST
def cluster_check(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = _get_cluster(cluster_id)
    cluster_check_queue(cluster)
    if request.htmx:
        return render(request, "clusters/partials/check_status.html", {"cluster": cluster})
    messages.info(request, _("Checking %(name)s now.") % {"name": cluster.name})
    return redirect("clusters:detail", cluster.pk)


@role_required(OPERATOR)
@require_POST
def cluster_rename(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = _get_cluster(cluster_id)
    form = ClusterRenameForm(request.POST, instance_pk=cluster.pk)
    if form.is_valid():
        old = cluster.name
        cluster.name = form.cleaned_data["name"]
        cluster.save(update_fields=["name"])
        audit_record(
            actor=request.user,
            verb="cluster.rename",
            target=cluster,
            cluster=cluster.name,
            detail=f"from={old}",
        )
        messages.success(request, _("Cluster renamed."))
    else:
        for error in form.errors.get("name", []):
            messages.error(request, error)
    return redirect("clusters:detail", cluster.pk)


# --- namespaces, scans and syncs of one cluster -----------------------------------------


@role_required(OPERATOR)
@require_POST
def cluster_scan(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = _get_cluster(cluster_id)
    services.cluster_scan_queue(actor=request.user, cluster=cluster)
    messages.info(
        request,
        _("Scanning %(name)s; the table refreshes when it is done.") % {"name": cluster.name},
    )
    return redirect("clusters:detail", cluster.pk)


@role_required(OPERATOR)
@require_POST
def cluster_sync(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = _get_cluster(cluster_id)
    run = services.sync_run_start(actor=request.user, clusters=[cluster])
    return redirect("clusters:run-detail", run.pk)


# --- policies ---------------------------------------------------------------------------


def _get_policy(policy_id: int) -> PullSecretPolicy:
    return get_object_or_404(
        PullSecretPolicy.objects.select_related("credential", "cluster", "account"), pk=policy_id
    )


@login_required
def policy_list(request: HttpRequest) -> HttpResponse:
    policies = (
        PullSecretPolicy.objects.select_related("credential", "cluster", "account")
        .annotate(
            covered=Count("statuses", filter=Q(statuses__status=SecretStatus.Status.IN_SYNC)),
            problems=Count(
                "statuses",
                filter=Q(
                    statuses__status__in=[
                        SecretStatus.Status.MISSING,
                        SecretStatus.Status.STALE,
                        SecretStatus.Status.ERROR,
                    ]
                ),
            ),
        )
        .order_by("name")
    )
    return render(request, "clusters/policy_list.html", {"policies": policies})


def _policy_form_page(request, *, form, policy=None):
    preview = None
    if form.is_bound and form.is_valid():
        preview = selectors.policy_preview(
            form.policy_fields(), policy_id=policy.pk if policy else None
        )
    return render(
        request,
        "clusters/policy_form.html",
        {"form": form, "policy": policy, "preview": preview},
        status=400 if form.errors else 200,
    )


@role_required(OPERATOR)
def policy_new(request: HttpRequest) -> HttpResponse:
    initial = {}
    if request.GET.get("credential"):
        initial["credential"] = request.GET["credential"]
    if request.GET.get("cluster"):
        initial["target"] = f"cluster:{request.GET['cluster']}"
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and "save" in request.POST and form.is_valid():
        policy = services.policy_create(actor=request.user, **form.policy_fields())
        run = services.sync_run_start(
            actor=request.user, clusters=services.policy_clusters(policy), policy=policy
        )
        messages.success(request, _("Policy saved; the first sync is running."))
        return redirect("clusters:run-detail", run.pk)
    return _policy_form_page(request, form=form)


@role_required(OPERATOR)
def policy_edit(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = _get_policy(policy_id)
    form = PolicyForm(
        request.POST or None, instance=policy, initial=PolicyForm.initial_from(policy)
    )
    if request.method == "POST" and "save" in request.POST and form.is_valid():
        services.policy_update(actor=request.user, policy=policy, **form.policy_fields())
        messages.success(request, _("Policy saved. Sync it to apply the change now."))
        return redirect("clusters:policy-detail", policy.pk)
    return _policy_form_page(request, form=form, policy=policy)


@role_required(OPERATOR)
@require_POST
def policy_preview(request: HttpRequest) -> HttpResponse:
    """The dry run shown beside the form: what would be written where. Writes nothing."""
    policy = None
    if request.POST.get("policy_id"):
        policy = _get_policy(int(request.POST["policy_id"]))
    form = PolicyForm(request.POST, instance=policy)
    preview = None
    if form.is_valid():
        preview = selectors.policy_preview(
            form.policy_fields(), policy_id=policy.pk if policy else None
        )
    return render(
        request, "clusters/partials/policy_preview.html", {"form": form, "preview": preview}
    )


@login_required
def policy_detail(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = _get_policy(policy_id)
    return render(
        request,
        "clusters/policy_detail.html",
        {
            "policy": policy,
            "counts": selectors.status_counts(policy=policy),
            "clusters": services.policy_clusters(policy),
            "runs": policy.runs.select_related("created_by")[:10],
        },
    )


@role_required(OPERATOR)
@require_POST
def policy_sync(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = _get_policy(policy_id)
    run = services.sync_run_start(
        actor=request.user, clusters=services.policy_clusters(policy), policy=policy
    )
    return redirect("clusters:run-detail", run.pk)


@role_required(OPERATOR)
def policy_delete(request: HttpRequest, policy_id: int) -> HttpResponse:
    policy = _get_policy(policy_id)
    if request.method == "POST":
        services.policy_delete(actor=request.user, policy=policy)
        messages.success(request, _("Policy %(name)s deleted.") % {"name": policy.name})
        return redirect("clusters:policy-list")
    return render(request, "clusters/policy_delete.html", {"policy": policy})


# --- sync runs --------------------------------------------------------------------------


def _get_run(run_id: int) -> SyncRun:
    return get_object_or_404(SyncRun.objects.select_related("policy", "created_by"), pk=run_id)


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    runs = SyncRun.objects.select_related("policy", "created_by").prefetch_related("clusters")
    page = Paginator(runs, 50).get_page(request.GET.get("page"))
    return render(request, "clusters/run_list.html", {"page": page})


@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _get_run(run_id)
    results = Paginator(selectors.run_results(run), 200).get_page(request.GET.get("page"))
    template = "clusters/run_detail.html"
    if request.htmx and not request.htmx.boosted:
        template += "#progress"
    response = render(request, template, {"run": run, "results": results})
    if request.htmx and run.is_finished:
        # Terminal: send the final state once more and tell htmx to stop polling.
        return HttpResponseStopPolling(response.content)
    return response


@role_required(OPERATOR)
@require_POST
def run_retry(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _get_run(run_id)
    if not run.failed_count:
        messages.info(request, _("Nothing failed in this run."))
        return redirect("clusters:run-detail", run.pk)
    retry = services.sync_run_retry_failed(actor=request.user, run=run)
    return redirect("clusters:run-detail", retry.pk)


@login_required
def policy_snippets(request: HttpRequest, policy_id: int) -> HttpResponse:
    """Copy-ready YAML and commands for one namespace of a policy; never a password."""
    policy = _get_policy(policy_id)
    namespace = request.GET.get("namespace", "").strip() or "default"
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", namespace):
        messages.error(request, _("“%(ns)s” is not a namespace name.") % {"ns": namespace})
        namespace = "default"
    clusters = services.policy_clusters(policy)
    tke = any(c.tke_cluster_id or c.account.kind == "tke" for c in clusters)
    items = snippets.snippets_for(
        secret_name=policy.secret_name, namespace=namespace, credential=policy.credential, tke=tke
    )
    return render(
        request,
        "clusters/snippets.html",
        {"policy": policy, "namespace": namespace, "snippets": items},
    )


# --- audit: coverage and workload risk --------------------------------------------------


@login_required
def coverage(request: HttpRequest) -> HttpResponse:
    form = CoverageFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows, base = selectors.coverage_rows(filters)
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    template = "clusters/coverage.html"
    if request.htmx and not request.htmx.boosted:
        template += "#table"
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "counts": selectors.counts_by_status(base),
            "statuses": SecretStatus.Status.choices,
        },
    )


@login_required
def coverage_csv(request: HttpRequest) -> StreamingHttpResponse:
    form = CoverageFilterForm(request.GET or None)
    rows, _base = selectors.coverage_rows(form.cleaned_data if form.is_valid() else {})
    return stream_csv(
        "coverage",
        [
            "cluster",
            "account",
            "namespace",
            "secret",
            "policy",
            "credential",
            "status",
            "last_changed_by",
            "last_changed_at",
            "message",
            "last_checked",
        ],
        (
            (
                r.cluster.name,
                r.cluster.account.name,
                r.namespace.name,
                r.secret_name,
                r.policy.name,
                r.policy.credential.name,
                r.status,
                r.last_manager,
                r.last_changed_at.isoformat() if r.last_changed_at else "",
                r.message,
                r.checked_at.isoformat(),
            )
            for r in rows.iterator(chunk_size=2000)
        ),
    )


@login_required
def workloads(request: HttpRequest) -> HttpResponse:
    form = WorkloadFilterForm(request.GET or None)
    rows = selectors.workload_rows(form.cleaned_data if form.is_valid() else {})
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    template = "clusters/workloads.html"
    if request.htmx and not request.htmx.boosted:
        template += "#table"
    return render(request, template, {"form": form, "page": page})


@login_required
def workloads_csv(request: HttpRequest) -> StreamingHttpResponse:
    form = WorkloadFilterForm(request.GET or None)
    rows = selectors.workload_rows(form.cleaned_data if form.is_valid() else {})
    return stream_csv(
        "workloads",
        [
            "cluster",
            "namespace",
            "kind",
            "name",
            "risk",
            "registry",
            "images",
            "pull_secrets",
            "service_account",
            "why",
            "last_checked",
        ],
        (
            (
                w.cluster.name,
                w.namespace.name,
                w.kind,
                w.name,
                w.risk,
                w.registry,
                " ".join(w.images),
                " ".join(w.pull_secrets),
                w.service_account,
                w.detail,
                w.checked_at.isoformat(),
            )
            for w in rows.iterator(chunk_size=2000)
        ),
    )
