"""The accounts services: the rules that hold whichever screen calls them."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.accounts.grants import PRESETS, Access, Area
from apps.accounts.models import Invitation, Membership, Role, User
from apps.accounts.services import (
    invitation_accept,
    invitation_create,
    invitation_for_token,
    invitation_revoke,
    membership_change_role,
    membership_remove,
    role_delete,
    role_save,
    workspace_create,
    workspace_update_settings,
)
from apps.audit.models import AuditEvent
from tests.factories import UserFactory


def membership(world, user) -> Membership:
    return Membership.objects.get(workspace=world.workspace, user=user)


def invite(world, email="new@example.com", preset="viewer"):
    return invitation_create(
        workspace=world.workspace, email=email, role=world.roles[preset], invited_by=world.admin
    )


def test_a_new_workspace_has_the_presets_and_its_creator_as_admin(db):
    founder = UserFactory()
    workspace = workspace_create(name="Acme Marketing", admin=founder)
    assert workspace.slug == "acme-marketing"
    assert sorted(workspace.roles.values_list("preset", flat=True)) == sorted(
        p.key for p in PRESETS
    )
    assert Membership.objects.get(workspace=workspace, user=founder).role.is_admin
    assert workspace_create(name="Acme Marketing", admin=founder).slug == "acme-marketing-2"


# --- Invitations ----------------------------------------------------------------------

def test_only_a_hash_of_the_token_is_stored(world):
    invitation, token = invite(world)
    assert token not in invitation.token_hash
    assert invitation_for_token(token=token) == invitation
    assert invitation_for_token(token=token + "x") is None


def test_a_new_invitation_replaces_the_pending_one_for_the_address(world):
    first, _ = invite(world, email="New@Example.com")
    second, _ = invite(world, email="new@example.com")
    first.refresh_from_db()
    assert first.status == "revoked"
    assert second.status == "pending"
    assert second.email == "new@example.com"


def test_it_refuses_to_invite_a_member_or_with_a_foreign_role(world):
    with pytest.raises(ValidationError):
        invite(world, email="EDITOR@example.com")
    with pytest.raises(ValidationError):
        invitation_create(workspace=world.workspace, email="new@example.com",
                          role=world.other_workspace.roles.first(), invited_by=world.admin)
    assert not Invitation.objects.exists()


def test_accepting_creates_the_account_once(world):
    invitation, _ = invite(world, preset="editor")
    created = invitation_accept(invitation=invitation, full_name="New", password="x" * 12)
    assert created.role == world.roles["editor"]
    assert created.user.check_password("x" * 12)
    with pytest.raises(ValidationError, match="accepted"):
        invitation_accept(invitation=invitation, full_name="Again", password="y" * 12)
    assert User.objects.filter(email="new@example.com").count() == 1


def test_accepting_an_expired_invitation_creates_nothing(world):
    invitation, _ = invite(world)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(1))
    with pytest.raises(ValidationError, match="expired"):
        invitation_accept(invitation=invitation, full_name="New", password="x" * 12)
    assert not User.objects.filter(email="new@example.com").exists()


def test_accepting_as_another_user_is_refused(world):
    invitation, _ = invite(world)
    with pytest.raises(ValidationError, match="logged in as"):
        invitation_accept(invitation=invitation, user=world.outsider)
    assert not Membership.objects.filter(workspace=world.workspace, user=world.outsider).exists()


def test_revoking_is_audited_and_only_once(world):
    invitation, _ = invite(world)
    invitation_revoke(invitation=invitation, actor=world.admin)
    assert AuditEvent.objects.filter(action="invitation.revoked", actor=world.admin).count() == 1
    with pytest.raises(ValidationError):
        invitation_revoke(invitation=invitation, actor=world.admin)


# --- Memberships and the last admin -------------------------------------------------

def test_changing_a_role_is_audited(world):
    membership_change_role(
        membership=membership(world, world.viewer), role=world.roles["approver"], actor=world.admin
    )
    event = AuditEvent.objects.get(action="membership.role_changed")
    assert event.details == {"from": "Viewer", "to": "Approver"}
    assert event.workspace == world.workspace


def test_the_last_admin_cannot_be_demoted(world):
    with pytest.raises(ValidationError, match="at least one admin"):
        membership_change_role(
            membership=membership(world, world.admin), role=world.roles["editor"],
            actor=world.admin,
        )
    assert membership(world, world.admin).role == world.roles["admin"]


def test_an_admin_can_be_demoted_while_another_remains(world):
    membership_change_role(
        membership=membership(world, world.editor), role=world.roles["admin"], actor=world.admin
    )
    membership_change_role(
        membership=membership(world, world.admin), role=world.roles["viewer"], actor=world.admin
    )
    assert membership(world, world.admin).role == world.roles["viewer"]


def test_the_last_admin_cannot_be_removed(world):
    with pytest.raises(ValidationError, match="at least one admin"):
        membership_remove(membership=membership(world, world.admin), actor=world.admin)
    assert membership(world, world.admin)


def test_admins_are_counted_per_workspace(world):
    # The outsider is the other workspace's only admin; this workspace's admins don't count.
    other = Membership.objects.get(workspace=world.other_workspace, user=world.outsider)
    with pytest.raises(ValidationError):
        membership_remove(membership=other, actor=world.outsider)


# --- Roles --------------------------------------------------------------------------

def test_a_custom_role_is_audited_with_its_grants(world):
    role = role_save(
        workspace=world.workspace, actor=world.admin, name=" Analysts ", description="",
        grants={Area.REPORTS: Access.READ}, can_approve=False, can_send=False,
    )
    assert role.name == "Analysts"
    assert role.grants == {"reports": "read"}
    event = AuditEvent.objects.get(action="role.created")
    assert event.details["grants"]["reports"] == "read"
    assert event.details["grants"]["contacts"] == "none"


def test_role_names_are_unique_regardless_of_case(world):
    with pytest.raises(ValidationError, match="already exists"):
        role_save(workspace=world.workspace, actor=world.admin, name="VIEWER", description="",
                  grants={}, can_approve=False, can_send=False)


def test_editing_the_admin_role_to_drop_account_write_is_refused_when_only_admins_use_it(world):
    admin_role = world.roles["admin"]
    grants = {area: Access.WRITE for area in Area} | {Area.ACCOUNT: Access.READ}
    with pytest.raises(ValidationError, match="without an admin"):
        role_save(workspace=world.workspace, actor=world.admin, role=admin_role, name="Admin",
                  description="", grants=grants, can_approve=True, can_send=True)
    assert Role.objects.get(pk=admin_role.pk).is_admin
    assert not AuditEvent.objects.filter(action="role.updated").exists()


def test_an_unused_role_is_deleted_with_its_old_invitations(world):
    role = role_save(workspace=world.workspace, actor=world.admin, name="Temps", description="",
                     grants={}, can_approve=False, can_send=False)
    invitation, _ = invitation_create(workspace=world.workspace, email="t@example.com",
                                      role=role, invited_by=world.admin)
    invitation_revoke(invitation=invitation, actor=world.admin)
    role_delete(role=role, actor=world.admin)
    assert not Role.objects.filter(pk=role.pk).exists()
    assert AuditEvent.objects.filter(action="role.deleted", target="Temps").exists()


def test_an_expired_invitation_does_not_keep_a_role_alive(world):
    # An expired invitation can no longer be revoked; it must not block deletion for good.
    role = role_save(workspace=world.workspace, actor=world.admin, name="Temps", description="",
                     grants={}, can_approve=False, can_send=False)
    invitation, _ = invitation_create(workspace=world.workspace, email="t@example.com",
                                      role=role, invited_by=world.admin)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(1))
    role_delete(role=role, actor=world.admin)
    assert not Role.objects.filter(pk=role.pk).exists()


def test_a_role_in_use_is_not_deleted(world):
    with pytest.raises(ValidationError, match="in use"):
        role_delete(role=world.roles["approver"], actor=world.admin)
    assert Role.objects.filter(pk=world.roles["approver"].pk).exists()


# --- Settings -----------------------------------------------------------------------

def test_settings_record_only_what_changed(world):
    workspace_update_settings(workspace=world.workspace, actor=world.admin, name="Acme Marketing",
                              time_zone="UTC", require_mfa=True)
    event = AuditEvent.objects.get(action="workspace.settings_changed")
    assert event.details == {"changes": {"require_mfa": [False, True]}}
    workspace_update_settings(workspace=world.workspace, actor=world.admin, name="Acme Marketing",
                              time_zone="UTC", require_mfa=True)
    assert AuditEvent.objects.filter(action="workspace.settings_changed").count() == 1


def test_four_eyes_is_on_by_default_and_its_change_is_audited(world):
    assert world.workspace.require_second_approver is True
    workspace_update_settings(workspace=world.workspace, actor=world.admin, name="Acme Marketing",
                              time_zone="UTC", require_mfa=False, require_second_approver=False)
    world.workspace.refresh_from_db()
    assert world.workspace.require_second_approver is False
    event = AuditEvent.objects.get(action="workspace.settings_changed")
    assert event.details == {"changes": {"require_second_approver": [True, False]}}


def test_four_eyes_stays_as_it_is_when_not_given(world):
    world.workspace.require_second_approver = False
    world.workspace.save(update_fields=["require_second_approver"])
    workspace_update_settings(workspace=world.workspace, actor=world.admin, name="Acme Marketing",
                              time_zone="UTC", require_mfa=False)
    world.workspace.refresh_from_db()
    assert world.workspace.require_second_approver is False
    assert not AuditEvent.objects.filter(action="workspace.settings_changed").exists()
