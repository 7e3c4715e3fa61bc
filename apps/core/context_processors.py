"""Template context every page needs: navigation and the workspace switcher."""

from apps.accounts.models import Membership
from apps.core.navigation import nav_for


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    workspace = getattr(request, "workspace", None)
    if workspace is None:
        return {"nav_items": [], "workspace_choices": _workspaces(user)}
    nav = nav_for(request=request)
    return {
        "nav_items": [item for item in nav if item["section"] == "work"],
        "admin_nav_items": [item for item in nav if item["section"] == "admin"],
        "workspace_choices": _workspaces(user),
    }


def _workspaces(user) -> list:
    return [
        m.workspace
        for m in Membership.objects.filter(user=user).select_related("workspace").order_by(
            "workspace__name"
        )
    ]
