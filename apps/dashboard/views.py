"""The landing redirect and the workspace overview, the team's daily home."""

from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from apps.accounts.access import workspace_view
from apps.accounts.selectors import memberships_of
from apps.core.timezones import member_zone_name
from apps.dashboard.selectors.overview import overview_for


@require_GET
def index(request: HttpRequest):
    """Send a member to their workspace; explain what to do if they have none."""
    if not request.user.is_authenticated:
        return redirect("account_login")
    memberships = memberships_of(user=request.user)
    if len(memberships) == 1:
        return redirect("dashboard:home", workspace_slug=memberships[0].workspace.slug)
    return render(request, "dashboard/index.html", {"memberships": memberships})


@require_GET
@workspace_view()
def home(request: HttpRequest):
    """Any member may open it; each card inside is there only if the role reads its area."""
    zone = member_zone_name(request)
    overview = overview_for(membership=request.membership, zone_name=zone, now=timezone.now())
    return render(request, "dashboard/home.html", {"o": overview, "zone": zone})
