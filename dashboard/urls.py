from django.contrib import admin
from django.urls import include, path

from clusters import views as cluster_views
from dashboard import views

urlpatterns = [
    path("", views.home, name="home"),
    path("audit/", views.audit, name="audit"),
    path("audit/events.csv", views.audit_csv, name="audit-csv"),
    path("audit/coverage/", cluster_views.coverage, name="coverage"),
    path("audit/coverage.csv", cluster_views.coverage_csv, name="coverage-csv"),
    path("audit/workloads/", cluster_views.workloads, name="workloads"),
    path("audit/workloads.csv", cluster_views.workloads_csv, name="workloads-csv"),
    path("users/", views.users, name="users"),
    path("users/new", views.user_create, name="user-create"),
    path("users/<int:user_id>/role", views.user_role, name="user-role"),
    path("", include("accounts.urls")),
    path("clusters/", include("clusters.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("django-admin/", admin.site.urls),
    path("", include("django.contrib.auth.urls")),
]
