"""Template context every page needs: navigation and the workspace switcher."""

from apps.accounts.selectors import memberships_of
from apps.dashboard.navigation import nav_for


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    workspaces = [m.workspace for m in memberships_of(user=user)]
    workspace = getattr(request, "workspace", None)
    if workspace is None:
        return {"nav_items": [], "workspace_choices": workspaces}
    nav = nav_for(request=request)
    return {
        "nav_items": [item for item in nav if item["section"] == "work"],
        "admin_nav_items": [item for item in nav if item["section"] == "admin"],
        "workspace_choices": workspaces,
    }
