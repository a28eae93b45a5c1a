from __future__ import annotations

import pytest
from django.urls import reverse

from dashboard.audit import audit_record

PAGES = ["home", "audit", "accounts:list", "accounts:credential-list", "clusters:list"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", [*PAGES, "users"])
def test_every_page_requires_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", PAGES)
def test_a_viewer_can_read_every_page(viewer_client, name):
    response = viewer_client.get(reverse(name))
    assert response.status_code == 200
    assert b'class="mainnav"' in response.content


@pytest.mark.django_db
def test_the_login_page_logs_a_person_in(client, viewer):
    page = client.get(reverse("login"))
    assert b'name="password"' in page.content
    response = client.post(reverse("login"), {"username": "vera", "password": "pw-vera"})
    assert response.status_code == 302 and response.url == reverse("home")


@pytest.mark.django_db
def test_a_wrong_password_says_so(client, viewer):
    response = client.post(reverse("login"), {"username": "vera", "password": "nope"})
    assert b"That username and password did not match" in response.content


def test_logout_needs_a_post_and_ends_the_session(viewer_client):
    viewer_client.post(reverse("logout"))
    assert viewer_client.get(reverse("home")).status_code == 302


def test_htmx_comes_from_our_static_files_and_carries_the_csrf_token(viewer_client):
    html = viewer_client.get(reverse("home")).content.decode()
    assert "/static/django_htmx/htmx-2.min.js" in html
    assert "unpkg" not in html and "cdn" not in html.lower()
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


def test_the_overview_shows_an_empty_state_before_any_cluster(viewer_client):
    html = viewer_client.get(reverse("home")).content.decode()
    assert "No clusters yet" in html and reverse("accounts:list") in html


def test_the_audit_log_lists_and_filters_events(viewer_client, operator):
    audit_record(actor=operator, verb="credential.create", target_name="team-registry")
    audit_record(actor=operator, verb="cluster.sync", target_name="prod", cluster="prod")
    html = viewer_client.get(reverse("audit"), {"verb": "credential"}).content.decode()
    assert "team-registry" in html and "cluster.sync" not in html


def test_the_audit_log_says_when_nothing_matches(viewer_client):
    html = viewer_client.get(reverse("audit"), {"actor": "nobody-at-all"}).content.decode()
    assert "Nothing matches these filters." in html


def test_an_htmx_request_gets_only_the_table_fragment(viewer_client, operator):
    audit_record(actor=operator, verb="credential.create", target_name="team-registry")
    response = viewer_client.get(reverse("audit"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="events"') and "team-registry" in html
    assert "<html" not in html and 'class="mainnav"' not in html


def test_the_audit_log_is_paginated(viewer_client, operator):
    for i in range(55):
        audit_record(actor=operator, verb="policy.update", target_name=f"p{i}")
    first = viewer_client.get(reverse("audit")).content.decode()
    second = viewer_client.get(reverse("audit"), {"page": 2}).content.decode()
    assert "Page 1 of 2 (55 rows)" in first and ">p0<" not in first
    assert ">p0<" in second


@pytest.mark.django_db
def test_the_health_check_needs_no_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"


@pytest.mark.django_db
def test_the_health_check_answers_a_container_probe_in_production(client, settings):
    # The probe dials 127.0.0.1 over plain HTTP; production allows neither for pages.
    settings.ALLOWED_HOSTS = ["regcred.example.com"]
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz", HTTP_HOST="127.0.0.1:8000").status_code == 200
    assert client.get("/login/", HTTP_HOST="127.0.0.1:8000").status_code == 400


def test_an_unknown_page_gets_the_friendly_404(viewer_client, settings):
    settings.DEBUG = False
    response = viewer_client.get("/no/such/page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content


def test_the_500_page_renders_without_the_database_or_context(client):
    from django.template import loader

    html = loader.get_template("500.html").render({})
    assert "Something went wrong on our side" in html and "服务器出错了" in html
