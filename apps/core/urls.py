from django.urls import path

from apps.accounts.grants import Area
from apps.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    *[
        path(f"{area.value.replace('_', '-')}/", views.area_page(area), name=f"area_{area.value}")
        for area in Area
    ],
]
