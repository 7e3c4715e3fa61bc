"""Team administration, under /w/<workspace_slug>/team/ (namespace `accounts`)."""

from django.urls import path

from apps.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.members, name="members"),
    path("invite/", views.invite, name="invite"),
    path("members/<int:member_id>/role/", views.member_role, name="member_role"),
    path("members/<int:member_id>/remove/", views.member_remove, name="member_remove"),
    path(
        "invitations/<int:invitation_id>/revoke/", views.invitation_revoke_view,
        name="invitation_revoke",
    ),
    path("roles/", views.roles, name="roles"),
    path("roles/new/", views.role_create, name="role_create"),
    path("roles/<int:role_id>/edit/", views.role_edit, name="role_edit"),
    path("roles/<int:role_id>/delete/", views.role_delete_view, name="role_delete"),
    path("settings/", views.workspace_settings, name="settings"),
]
