"""URLs of agent access (namespace `agents`), mounted at /w/<workspace_slug>/:
the Agent requests inbox under agents/requests/, and Team → Agents under
team/agents/ so it stays beside the rest of Team."""

from django.urls import include, path

from apps.agents.views import requests, team

app_name = "agents"

urlpatterns = [
    path("agents/", include(requests.urlpatterns)),
    path("team/agents/", include(team.urlpatterns)),
]
