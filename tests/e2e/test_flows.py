"""The main flows in a real browser: onboard a cluster, store a credential, sync, copy."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from accounts.models import RegistryCredential
from clusters.models import Cluster, SyncRun

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_operator_onboards_a_kubeconfig_and_watches_the_check_finish(
    page, kubeapi, eager_tasks, tmp_path
):
    page.click("text=Cloud accounts")
    page.click("text=Add a cloud account")
    page.click("a[href='/accounts/new/kubeconfig/']")
    page.fill("#id_name", "lab")
    page.fill("#id_kubeconfig", json.dumps(kubeapi.kubeconfig(context="lab-ctx")))
    page.click("button:has-text('Add account')")

    expect(page.locator(".msg-success")).to_contain_text("checking its clusters now")
    expect(page.locator("span.badge.ok")).to_contain_text("Reachable")
    expect(page.locator("text=v1.32.0")).to_be_visible()
    assert Cluster.objects.get().check_status == "ok"
    page.screenshot(path=str(tmp_path / "account.png"))


def test_a_refused_kubeconfig_says_why_in_the_form(page):
    page.goto("/accounts/new/kubeconfig/")
    page.fill("#id_name", "bad")
    page.fill(
        "#id_kubeconfig",
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://k8s.example.com"}}],
                "users": [{"name": "u", "user": {"exec": {"command": "aws"}}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
            }
        ),
    )
    page.click("button:has-text('Add account')")
    expect(page.locator(".errorlist")).to_contain_text('User "u"')
    expect(page.locator("#id_kubeconfig")).to_have_value("")


def test_a_policy_syncs_with_live_progress_and_snippets_copy(
    page, kubeapi, cluster, credential, eager_tasks
):
    for i in range(5):
        kubeapi.create_namespace(f"team-{i}")
    page.goto("/clusters/policies/new/")
    page.fill("#id_name", "team-pull")
    page.select_option("#id_credential", str(credential.pk))
    page.select_option("#id_target", f"cluster:{cluster.pk}")
    page.fill("#id_secret_name", "coding-regcred")
    page.check("input[name=selection][value=patterns]")
    page.fill("#id_patterns", "team-*")
    page.click("button:has-text('Save and sync')")

    expect(page.locator("#progress section .badge").first).to_have_text("Succeeded")
    expect(page.locator("#progress")).to_contain_text("5 of 5 namespaces")
    assert SyncRun.objects.get().created_count == 5
    assert kubeapi.get_object("secrets", "team-3", "coding-regcred") is not None

    page.click("a:has-text('team-pull')")
    page.click("text=Sample usage")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    button = page.locator("#snippet-kubectl-create button.copy")
    button.click()
    expect(button).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("kubectl create secret docker-registry coding-regcred")
    assert credential.password not in page.content()


def test_the_interface_switches_to_chinese(page):
    page.select_option("#language", "zh-hans")
    expect(page.locator("nav.mainnav")).to_contain_text("集群")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")


def test_a_viewer_gets_no_buttons_that_would_change_things(
    browser, live_server, viewer, credential
):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.goto("/login/")
    page.fill("#id_username", viewer.username)
    page.fill("#id_password", "pw-" + viewer.username)
    page.click("button[type=submit]")
    page.goto(f"/credentials/{credential.pk}/")
    expect(page.locator("h1")).to_contain_text(credential.name)
    assert page.locator("text=Edit").count() == 0 and page.locator("text=Delete").count() == 0
    assert RegistryCredential.objects.count() == 1
    context.close()
