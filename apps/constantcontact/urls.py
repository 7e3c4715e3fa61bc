"""The Constant Contact screens, mounted at /w/<workspace_slug>/constant-contact/
(namespace `constantcontact`). The OAuth callback is not here: see callback_urls.py."""

from django.urls import path

from apps.constantcontact import views

app_name = "constantcontact"

urlpatterns = [
    path("", views.connection, name="connection"),
    path("connect/", views.connect, name="connect"),
    path("disconnect/", views.disconnect, name="disconnect"),
    path("api-reference/", views.reference, name="reference"),
    path("budget/", views.budget, name="budget"),
]
