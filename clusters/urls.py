from django.urls import path

from clusters import views

app_name = "clusters"
urlpatterns = [
    path("", views.cluster_list, name="list"),
    path("<int:cluster_id>/", views.cluster_detail, name="detail"),
    path("<int:cluster_id>/check/", views.cluster_check, name="check"),
    path("<int:cluster_id>/check-status/", views.cluster_check_status, name="check-status"),
    path("<int:cluster_id>/rename/", views.cluster_rename, name="rename"),
    path("<int:cluster_id>/scan/", views.cluster_scan, name="scan"),
    path("<int:cluster_id>/sync/", views.cluster_sync, name="sync"),
    path("policies/", views.policy_list, name="policy-list"),
    path("policies/new/", views.policy_new, name="policy-new"),
    path("policies/preview/", views.policy_preview, name="policy-preview"),
    path("policies/<int:policy_id>/", views.policy_detail, name="policy-detail"),
    path("policies/<int:policy_id>/edit/", views.policy_edit, name="policy-edit"),
    path("policies/<int:policy_id>/sync/", views.policy_sync, name="policy-sync"),
    path("policies/<int:policy_id>/delete/", views.policy_delete, name="policy-delete"),
    path("policies/<int:policy_id>/snippets/", views.policy_snippets, name="policy-snippets"),
    path("runs/", views.run_list, name="run-list"),
    path("runs/<int:run_id>/", views.run_detail, name="run-detail"),
    path("runs/<int:run_id>/retry/", views.run_retry, name="run-retry"),
]
