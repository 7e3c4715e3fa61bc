"""The one enforcement helper every dashboard view uses.

`workspace_view` resolves the workspace named in the URL, then:
- anonymous visitors are sent to the login page;
- people who are not members of that workspace get 404 (its existence is not revealed);
- members whose role lacks the grant get 403;
- members of a workspace that requires MFA, without MFA set up, are sent to set it up.
It sets `request.workspace`, `request.membership` and `request.role`, and records
its rule on the view so the access-matrix test and the navigation can read it.
`apps.core.middleware` refuses any workspace URL whose view lacks a rule.
"""

from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from apps.accounts.grants import Access, Area, Capability
from apps.accounts.selectors import membership_for, user_has_mfa


@dataclass(frozen=True)
class AccessRule:
    area: Area | None = None  # None: any member of the workspace
    access: Access = Access.READ
    capability: Capability | None = None
    # Grants needed in other areas as well, [(area, access), ...]: a bulk delete
    # needs write on bulk jobs and on contacts.
    also: tuple[tuple[Area, Access], ...] = ()

    def allows(self, role) -> bool:
        if self.area is not None and not role.allows(self.area, self.access):
            return False
        if self.capability is not None and not role.has_capability(self.capability):
            return False
        return all(role.allows(area, access) for area, access in self.also)


def workspace_view(
    area: Area | None = None,
    access: Access = Access.READ,
    *,
    capability: Capability | None = None,
    also: tuple[tuple[Area, Access], ...] = (),
):
    rule = AccessRule(area=area, access=access, capability=capability, also=tuple(also))

    def decorator(view):
        @wraps(view)
        def wrapper(request, workspace_slug: str, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = membership_for(user=request.user, workspace_slug=workspace_slug)
            request.workspace = membership.workspace
            request.membership = membership
            request.role = membership.role
            if membership.workspace.require_mfa and not user_has_mfa(request.user):
                messages.warning(
                    request,
                    f"{membership.workspace.name} requires two-factor authentication. "
                    "Set it up to continue.",
                )
                return redirect("mfa_activate_totp")
            if not rule.allows(membership.role):
                raise PermissionDenied("Your role does not allow this.")
            return view(request, *args, **kwargs)

        wrapper.access_rule = rule
        return wrapper

    return decorator
