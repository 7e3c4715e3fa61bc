"""Writes for workspaces, roles, memberships and invitations.

Every change is announced (`apps.accounts.events`) and so lands in the audit
log, in the same transaction as the change.
"""

import hashlib
import secrets
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from apps.accounts.grants import PRESETS, Access, Area
from apps.accounts.models import Invitation, Membership, Role, User, Workspace
from apps.accounts.events import announce
from apps.accounts.selectors import invitation_for_token as invitation_with_hash


def _grants_as_json(grants: dict) -> dict[str, str]:
    return {str(Area(area)): Access(level).name.lower() for area, level in grants.items()}


def workspace_create(*, name: str, admin: User, slug: str = "") -> Workspace:
    """A workspace with the four preset roles, and `admin` as its first Admin."""
    with transaction.atomic():
        workspace = Workspace.objects.create(name=name, slug=slug or _free_slug(name))
        roles = {
            preset.key: Role.objects.create(
                workspace=workspace,
                name=preset.name,
                description=preset.description,
                preset=preset.key,
                grants=_grants_as_json(preset.grants),
                can_approve=preset.can_approve,
                can_send=preset.can_send,
            )
            for preset in PRESETS
        }
        Membership.objects.create(workspace=workspace, user=admin, role=roles["admin"])
        announce(
            action="workspace.created", actor=admin, workspace=workspace, target=workspace.name
        )
    return workspace


def _free_slug(name: str) -> str:
    base = slugify(name)[:40] or "workspace"
    slug, n = base, 1
    while Workspace.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _admin_count(workspace: Workspace) -> int:
    return sum(
        1 for m in Membership.objects.filter(workspace=workspace).select_related("role")
        if m.role.is_admin
    )


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_create(
    *, workspace: Workspace, email: str, role: Role, invited_by: User
) -> tuple[Invitation, str]:
    """Create an invitation; returns it with the raw token (only ever sent by email)."""
    email = email.strip().lower()
    if role.workspace_id != workspace.id:
        raise ValidationError("That role belongs to another workspace.")
    if Membership.objects.filter(workspace=workspace, user__email__iexact=email).exists():
        raise ValidationError(f"{email} is already a member of {workspace.name}.")
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        # A new invitation replaces any pending one for the same address.
        Invitation.objects.filter(
            workspace=workspace, email__iexact=email, accepted_at=None, revoked_at=None
        ).update(revoked_at=now)
        invitation = Invitation.objects.create(
            workspace=workspace,
            email=email,
            role=role,
            token_hash=_hash_token(token),
            invited_by=invited_by,
            expires_at=now + timedelta(days=settings.INVITATION_LIFETIME_DAYS),
        )
        announce(
            action="invitation.created", actor=invited_by, workspace=workspace,
            target=email, details={"role": role.name},
        )
    return invitation, token


def invitation_for_token(*, token: str) -> Invitation | None:
    """The invitation a link's raw token names (the database holds only hashes)."""
    return invitation_with_hash(token_hash=_hash_token(token))


def invitation_revoke(*, invitation: Invitation, actor: User) -> None:
    if not invitation.is_usable:
        raise ValidationError("Only a pending invitation can be revoked.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    announce(
        action="invitation.revoked", actor=actor, workspace=invitation.workspace,
        target=invitation.email,
    )


def invitation_accept(
    *, invitation: Invitation, user: User | None = None, full_name: str = "", password: str = ""
) -> Membership:
    """Accept an invitation: for a logged-in `user` with the invited address, or by
    creating the account from `full_name` and `password`."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_usable:
            raise ValidationError(f"This invitation is {invitation.status}.")
        if user is None:
            if User.objects.filter(email__iexact=invitation.email).exists():
                raise ValidationError("An account with this address exists: log in to accept.")
            user = User.objects.create_user(
                email=invitation.email, password=password, full_name=full_name
            )
            announce(
                action="account.created", actor=user, workspace=invitation.workspace,
                target=user.email, details={"via": "invitation"},
            )
        elif user.email.lower() != invitation.email.lower():
            raise ValidationError(
                f"This invitation is for {invitation.email}; you are logged in as {user.email}."
            )
        membership, created = Membership.objects.get_or_create(
            workspace=invitation.workspace, user=user, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
        announce(
            action="invitation.accepted", actor=user, workspace=invitation.workspace,
            target=invitation.email, details={"role": membership.role.name},
        )
        if created:
            announce(
                action="membership.created", actor=user, workspace=invitation.workspace,
                target=user.email, details={"role": membership.role.name},
            )
    return membership


def membership_change_role(*, membership: Membership, role: Role, actor: User) -> Membership:
    if role.workspace_id != membership.workspace_id:
        raise ValidationError("That role belongs to another workspace.")
    with transaction.atomic():
        # Lock the workspace's memberships so two admins demoting each other at once
        # cannot both succeed and leave nobody in charge.
        list(Membership.objects.select_for_update().filter(workspace=membership.workspace))
        old_role = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        if _admin_count(membership.workspace) == 0:
            raise ValidationError("A workspace must keep at least one admin.")
        announce(
            action="membership.role_changed", actor=actor, workspace=membership.workspace,
            target=membership.user.email, details={"from": old_role.name, "to": role.name},
        )
    return membership


def membership_remove(*, membership: Membership, actor: User) -> None:
    with transaction.atomic():
        list(Membership.objects.select_for_update().filter(workspace=membership.workspace))
        workspace, email, role_name = membership.workspace, membership.user.email, membership.role.name
        membership.delete()
        if _admin_count(workspace) == 0:
            raise ValidationError("A workspace must keep at least one admin.")
        announce(
            action="membership.removed", actor=actor, workspace=workspace, target=email,
            details={"role": role_name},
        )


def role_save(
    *,
    workspace: Workspace,
    actor: User,
    name: str,
    description: str,
    grants: dict[Area, Access],
    can_approve: bool,
    can_send: bool,
    role: Role | None = None,
) -> Role:
    """Create a custom role, or edit `role`. Editing may not leave the workspace without an admin."""
    name = name.strip()
    clash = Role.objects.filter(workspace=workspace, name__iexact=name)
    if role is not None:
        clash = clash.exclude(pk=role.pk)
    if clash.exists():
        raise ValidationError(f"A role called {name!r} already exists.")
    with transaction.atomic():
        list(Membership.objects.select_for_update().filter(workspace=workspace))
        created = role is None
        before = {} if created else _role_snapshot(role)
        role = role or Role(workspace=workspace)
        role.name, role.description = name, description.strip()
        role.grants = _grants_as_json(grants)
        role.can_approve, role.can_send = can_approve, can_send
        role.save()
        if not created and _admin_count(workspace) == 0:
            raise ValidationError(
                "This change would leave the workspace without an admin "
                "(Account: write). Give another member an admin role first."
            )
        after = _role_snapshot(role)
        announce(
            action="role.created" if created else "role.updated", actor=actor,
            workspace=workspace, target=role.name,
            details={"grants": after} if created else {
                "changes": {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
            },
        )
    return role


def _role_snapshot(role: Role) -> dict:
    snapshot = {str(area): role.access_for(area).name.lower() for area in Area}
    snapshot.update(approve=role.can_approve, send=role.can_send, name=role.name)
    return snapshot


def role_delete(*, role: Role, actor: User) -> None:
    # Only pending invitations count as use: an expired one can no longer be
    # revoked, so counting it would make the role undeletable for good.
    pending = role.invitations.filter(
        accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
    )
    if role.agents.exists():  # PROTECTed, like members: say so rather than fail
        raise ValidationError("This role is in use by agents: give them another role first.")
    if role.memberships.exists() or pending.exists():
        raise ValidationError("This role is in use: move its members and invitations first.")
    name, workspace = role.name, role.workspace
    with transaction.atomic():
        role.invitations.all().delete()
        role.delete()
        announce(action="role.deleted", actor=actor, workspace=workspace, target=name)


def workspace_update_settings(
    *, workspace: Workspace, actor: User, name: str, time_zone: str, require_mfa: bool,
    require_second_approver: bool | None = None,
    unschedule_when_approval_voided: bool | None = None,
) -> Workspace:
    """Save the settings that differ and audit them; the campaign settings
    (`require_second_approver`, four eyes on approvals, and
    `unschedule_when_approval_voided`) are left as they are when not given."""
    changes = {}
    values = [("name", name), ("time_zone", time_zone), ("require_mfa", require_mfa)]
    if require_second_approver is not None:
        values.append(("require_second_approver", require_second_approver))
    if unschedule_when_approval_voided is not None:
        values.append(("unschedule_when_approval_voided", unschedule_when_approval_voided))
    for field, value in values:
        if getattr(workspace, field) != value:
            changes[field] = [getattr(workspace, field), value]
            setattr(workspace, field, value)
    if changes:
        workspace.save(update_fields=list(changes))
        announce(
            action="workspace.settings_changed", actor=actor, workspace=workspace,
            target=workspace.name, details={"changes": changes},
        )
    return workspace


def user_update_profile(*, user: User, full_name: str, time_zone: str) -> User:
    """A member's own name and time zone (every time on every page is shown in
    it); audited against the member, not a workspace: it follows them everywhere."""
    if time_zone not in zoneinfo.available_timezones():
        raise ValidationError(f"{time_zone!r} is not a time zone.")
    changes = {}
    for field, value in (("full_name", full_name.strip()), ("time_zone", time_zone)):
        if getattr(user, field) != value:
            changes[field] = [getattr(user, field), value]
            setattr(user, field, value)
    if changes:
        user.save(update_fields=list(changes))
        announce(
            action="profile.changed", actor=user, target=user.email,
            details={"changes": changes},
        )
    return user
