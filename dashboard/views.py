from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dashboard import selectors, services
from dashboard.csvexport import stream_csv
from dashboard.forms import AuditFilterForm, RoleForm, UserCreateForm
from dashboard.roles import ADMIN, role_required


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboard/home.html", {"overview": selectors.fleet_overview()})


@login_required
def audit(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    events = selectors.audit_events(form.cleaned_data if form.is_valid() else {})
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    template = "dashboard/audit.html"
    if request.htmx and not request.htmx.boosted:
        template += "#events"
    return render(request, template, {"form": form, "page": page})


@login_required
def audit_csv(request: HttpRequest) -> StreamingHttpResponse:
    form = AuditFilterForm(request.GET or None)
    events = selectors.audit_events(form.cleaned_data if form.is_valid() else {})
    return stream_csv(
        "events",
        ["time", "actor", "action", "target", "cluster", "namespace", "outcome", "detail"],
        (
            (
                e.created.isoformat(),
                e.actor_name,
                e.verb,
                e.target_name,
                e.cluster,
                e.namespace,
                e.outcome,
                e.detail,
            )
            for e in events.iterator(chunk_size=2000)
        ),
    )


@role_required(ADMIN)
def users(request: HttpRequest) -> HttpResponse:
    people = get_user_model().objects.order_by("username").prefetch_related("groups")
    return render(
        request,
        "dashboard/users.html",
        {"people": people, "create_form": UserCreateForm(), "role_form": RoleForm()},
    )


@role_required(ADMIN)
@require_POST
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST)
    if not form.is_valid():
        people = get_user_model().objects.order_by("username").prefetch_related("groups")
        return render(
            request,
            "dashboard/users.html",
            {"people": people, "create_form": form, "role_form": RoleForm()},
            status=400,
        )
    user = services.user_create(actor=request.user, **form.cleaned_data)
    messages.success(request, _("User %(name)s created.") % {"name": user.username})
    return redirect("users")


@role_required(ADMIN)
@require_POST
def user_role(request: HttpRequest, user_id: int) -> HttpResponse:
    person = get_object_or_404(get_user_model(), pk=user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role from the list."))
        return redirect("users")
    if person == request.user and form.cleaned_data["role"] != ADMIN:
        messages.error(request, _("You cannot take the admin role away from yourself."))
        return redirect("users")
    services.user_set_role(actor=request.user, user=person, role=form.cleaned_data["role"])
    messages.success(
        request,
        _("%(name)s is now %(role)s.")
        % {"name": person.username, "role": form.cleaned_data["role"] or _("without a role")},
    )
    return redirect("users")
