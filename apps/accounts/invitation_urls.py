"""The public invitation link, /invitations/<token>/ (namespace `invitations`)."""

from django.urls import path

from apps.accounts import views

app_name = "invitations"

urlpatterns = [
    path("<str:token>/", views.accept, name="accept"),
]
