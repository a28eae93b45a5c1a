from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("accounts/", views.account_list, name="list"),
    path("accounts/new/", views.account_new, name="new"),
    path("accounts/new/kubeconfig/", views.account_new_kubeconfig, name="new-kubeconfig"),
    path(
        "accounts/new/service-account/", views.account_new_serviceaccount, name="new-serviceaccount"
    ),
    path("accounts/new/tke/", views.account_new_tke, name="new-tke"),
    path("accounts/new/tke/clusters/", views.account_new_tke_pick, name="new-tke-pick"),
    path("accounts/<int:account_id>/", views.account_detail, name="detail"),
    path("accounts/<int:account_id>/edit/", views.account_edit, name="edit"),
    path("accounts/<int:account_id>/delete/", views.account_delete, name="delete"),
    path("credentials/", views.credential_list, name="credential-list"),
    path("credentials/new/", views.credential_new, name="credential-new"),
    path("credentials/<int:credential_id>/", views.credential_detail, name="credential-detail"),
    path("credentials/<int:credential_id>/edit/", views.credential_edit, name="credential-edit"),
    path(
        "credentials/<int:credential_id>/delete/", views.credential_delete, name="credential-delete"
    ),
    path(
        "credentials/<int:credential_id>/verify/", views.credential_verify, name="credential-verify"
    ),
    path(
        "credentials/<int:credential_id>/verification/",
        views.credential_verification,
        name="credential-verification",
    ),
]
