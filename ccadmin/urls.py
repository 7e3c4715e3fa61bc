"""URL map. Everything inside a workspace lives under /w/<workspace_slug>/."""

from django.urls import include, path

from apps.accounts import profile_views
from apps.agents.mcp import http as mcp_http
from apps.core.views import healthz
from apps.dashboard import views as dashboard_views
from apps.notifications import views as notification_views

workspace_patterns = [
    path("", include("apps.dashboard.urls")),
    path("", include("apps.contacts.urls")),
    path("", include("apps.campaigns.urls")),
    path("", include("apps.segments.urls")),
    path("bulk/", include("apps.bulk.urls")),
    path("", include("apps.reporting.urls")),
    path("team/", include("apps.accounts.urls")),
    path("", include("apps.agents.urls")),  # agents/requests/… and team/agents/…
    path("audit/", include("apps.audit.urls")),
    path("constant-contact/", include("apps.constantcontact.urls")),
]

urlpatterns = [
    path("", dashboard_views.index, name="index"),
    path("healthz", healthz, name="healthz"),
    # The MCP server for agents (streamable HTTP, Bearer key), outside /w/<slug>/: a
    # key names its agent and so its workspace. Both spellings, as clients differ.
    path("mcp/", mcp_http.mcp_endpoint, name="mcp"),
    path("mcp", mcp_http.mcp_endpoint),
    path("accounts/", include("allauth.urls")),
    path("profile/", profile_views.profile, name="accounts_profile"),
    path("profile/notifications/", notification_views.notification_preferences,
         name="notification_preferences"),
    path("notifications/", include("apps.notifications.urls")),
    path("invitations/", include("apps.accounts.invitation_urls")),
    # Fixed, outside /w/<slug>/: it must equal the redirect URI registered with
    # Constant Contact byte for byte (see apps/constantcontact/callback_urls.py).
    path("oauth/constantcontact/", include("apps.constantcontact.callback_urls")),
    path("w/<slug:workspace_slug>/", include(workspace_patterns)),
]
