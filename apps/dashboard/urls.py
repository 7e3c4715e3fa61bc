"""The overview and the pages of areas still to come, under /w/<workspace_slug>/
(namespace `dashboard`)."""

from django.urls import path

from apps.accounts.grants import Area
from apps.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    *[
        path(f"{area.value.replace('_', '-')}/", views.area_page(area), name=f"area_{area.value}")
        for area in views.UNBUILT_AREAS
    ],
]
