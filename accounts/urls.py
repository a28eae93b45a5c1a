from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("accounts/", views.account_list, name="list"),
    path("credentials/", views.credential_list, name="credential-list"),
]
