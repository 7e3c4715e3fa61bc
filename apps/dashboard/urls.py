"""The workspace overview, at /w/<workspace_slug>/ (namespace `dashboard`)."""

from django.urls import path

from apps.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
]
