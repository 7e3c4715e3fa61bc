"""The landing redirect, the workspace overview and the pages of areas to come."""

from django.http import HttpRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from apps.accounts.access import workspace_view
from apps.accounts.grants import Access, Area
from apps.accounts.selectors import memberships_of
from apps.dashboard.navigation import NAV_ITEMS

# Areas whose screens have not landed yet get a page that says what they will hold.
UNBUILT_AREAS: tuple[Area, ...] = ()

# What each area will hold, said plainly until its screens land.
AREA_PLANS = {
    Area.CONTACTS: "Browse, search and edit the account's contacts, with their lists, "
    "tags, custom fields and subscription status.",
    Area.LISTS: "Create, rename and delete contact lists and see who is on each.",
    Area.TAGS: "Create, rename and delete tags and see how many contacts carry each.",
    Area.CUSTOM_FIELDS: "Define the extra fields stored on each contact.",
    Area.SEGMENTS: "Build segments: audiences defined by rules over contact data.",
    Area.BULK: "Import and export contacts, change list membership in bulk and delete "
    "contacts in bulk, with live progress.",
    Area.CAMPAIGNS: "Draft email campaigns, preview them, send tests, get them approved, "
    "and schedule or unschedule the send.",
    Area.REPORTS: "Opens, clicks, bounces and opt-outs per campaign, as charts and tables.",
    Area.ACCOUNT: "The Constant Contact account's details and its verified sender addresses.",
}


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
    plans = _visible_plans(request.role, request.workspace)
    return render(request, "dashboard/home.html", {"area_plans": plans})


def _visible_plans(role, workspace) -> list[dict]:
    url_names = {item.area: item.url_name for item in NAV_ITEMS if item.section == "work"}
    return [
        {"area": area, "label": area.label, "plan": plan, "access": role.access_for(area),
         "url": reverse(url_names[area], kwargs={"workspace_slug": workspace.slug})}
        for area, plan in AREA_PLANS.items()
        if role.allows(area, Access.READ)
    ]


def area_page(area: Area):
    """A page for an area whose screens have not landed yet (it says so; no fake data)."""

    @require_GET
    @workspace_view(area, Access.READ)
    def view(request: HttpRequest):
        return render(
            request,
            "dashboard/area.html",
            {"area": area, "label": area.label, "plan": AREA_PLANS[area],
             "access": request.role.access_for(area)},
        )

    view.__name__ = f"area_{area.value}"
    return view
