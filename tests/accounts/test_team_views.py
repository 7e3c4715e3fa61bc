"""The team screens: members, invitations, the invite form and workspace settings."""

import re
from datetime import timedelta

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Invitation, Membership, User
from apps.accounts.services import invitation_create
from apps.audit.models import AuditEvent


def url(world, name: str, **kwargs) -> str:
    return reverse(f"accounts:{name}", kwargs={"workspace_slug": world.workspace.slug, **kwargs})


def membership(world, user) -> Membership:
    return Membership.objects.get(workspace=world.workspace, user=user)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Who may use these pages -----------------------------------------------------

def _pages(world):
    viewer = membership(world, world.viewer).pk
    invitation, _ = invitation_create(
        workspace=world.workspace, email="new@example.com", role=world.roles["viewer"],
        invited_by=world.admin,
    )
    return [
        ("get", url(world, "members")),
        ("get", url(world, "invite")),
        ("post", url(world, "invite")),
        ("post", url(world, "member_role", member_id=viewer)),
        ("post", url(world, "member_remove", member_id=viewer)),
        ("post", url(world, "invitation_revoke", invitation_id=invitation.pk)),
        ("get", url(world, "settings")),
        ("post", url(world, "settings")),
    ]


@pytest.mark.parametrize("member", ["editor", "approver", "viewer"])
def test_it_refuses_members_without_account_write_on_every_page_and_post(client, world, member):
    client.force_login(world.user(member))
    for method, page in _pages(world):
        response = getattr(client, method)(page, {"role": world.roles["admin"].pk})
        assert response.status_code == 403, (method, page)
    assert membership(world, world.viewer).role == world.roles["viewer"]
    assert Invitation.objects.get(email="new@example.com").is_usable


def test_it_hides_the_workspace_from_outsiders(client, world):
    client.force_login(world.outsider)
    for method, page in _pages(world):
        assert getattr(client, method)(page).status_code == 404, (method, page)


def test_it_does_not_reach_members_of_another_workspace(admin_client, world):
    foreign = Membership.objects.get(workspace=world.other_workspace, user=world.outsider)
    response = admin_client.post(url(world, "member_remove", member_id=foreign.pk))
    assert response.status_code == 404
    assert Membership.objects.filter(pk=foreign.pk).exists()


# --- Members --------------------------------------------------------------------

def test_it_lists_members_with_role_and_mfa(admin_client, world):
    Authenticator.objects.create(user=world.editor, type=Authenticator.Type.TOTP, data={})
    response = admin_client.get(url(world, "members"))
    assert response.status_code == 200
    rows = {r["membership"].user.email: r for r in response.context["rows"]}
    assert set(rows) == {"admin@example.com", "editor@example.com", "approver@example.com",
                         "viewer@example.com"}
    assert rows["editor@example.com"]["mfa"] is True
    assert rows["viewer@example.com"]["mfa"] is False
    html = response.content.decode()
    assert "outsider@example.com" not in html
    assert "Send invitation" in html


def test_it_changes_a_members_role_and_audits_it(admin_client, world):
    response = admin_client.post(
        url(world, "member_role", member_id=membership(world, world.viewer).pk),
        {"role": world.roles["editor"].pk}, follow=True,
    )
    assert membership(world, world.viewer).role == world.roles["editor"]
    assert any("is now Editor" in m for m in messages_of(response))
    event = AuditEvent.objects.get(action="membership.role_changed")
    assert event.actor == world.admin
    assert event.target == "viewer@example.com"
    assert event.details == {"from": "Viewer", "to": "Editor"}


def test_it_returns_just_the_row_to_htmx(admin_client, world):
    response = admin_client.post(
        url(world, "member_role", member_id=membership(world, world.viewer).pk),
        {"role": world.roles["approver"].pk}, HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith("<tr")
    assert "is now Approver" in html
    assert "<html" not in html


def test_it_refuses_a_role_from_another_workspace(admin_client, world):
    foreign_role = world.other_workspace.roles.get(preset="admin")
    response = admin_client.post(
        url(world, "member_role", member_id=membership(world, world.viewer).pk),
        {"role": foreign_role.pk}, follow=True,
    )
    assert membership(world, world.viewer).role == world.roles["viewer"]
    assert any("Choose one of this workspace's roles" in m for m in messages_of(response))


def test_it_refuses_to_demote_the_last_admin(admin_client, world):
    response = admin_client.post(
        url(world, "member_role", member_id=membership(world, world.admin).pk),
        {"role": world.roles["viewer"].pk}, follow=True,
    )
    assert membership(world, world.admin).role == world.roles["admin"]
    assert "A workspace must keep at least one admin." in messages_of(response)
    assert not AuditEvent.objects.filter(action="membership.role_changed").exists()


def test_it_tells_the_htmx_row_why_the_last_admin_stays(admin_client, world):
    response = admin_client.post(
        url(world, "member_role", member_id=membership(world, world.admin).pk),
        {"role": world.roles["viewer"].pk}, HTTP_HX_REQUEST="true",
    )
    assert "A workspace must keep at least one admin." in response.content.decode()
    assert membership(world, world.admin).role == world.roles["admin"]


def test_an_admin_who_demotes_themselves_is_sent_home(admin_client, world):
    Membership.objects.filter(workspace=world.workspace, user=world.editor).update(
        role=world.roles["admin"]
    )
    response = admin_client.post(
        url(world, "member_role", member_id=membership(world, world.admin).pk),
        {"role": world.roles["viewer"].pk},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:home", args=[world.workspace.slug])
    assert membership(world, world.admin).role == world.roles["viewer"]


def test_it_removes_a_member_and_audits_it(admin_client, world):
    response = admin_client.post(
        url(world, "member_remove", member_id=membership(world, world.viewer).pk), follow=True
    )
    assert not Membership.objects.filter(workspace=world.workspace, user=world.viewer).exists()
    assert User.objects.filter(pk=world.viewer.pk).exists()  # the account stays
    assert any("was removed" in m for m in messages_of(response))
    assert AuditEvent.objects.filter(
        action="membership.removed", target="viewer@example.com"
    ).exists()


def test_it_refuses_to_remove_the_last_admin(admin_client, world):
    response = admin_client.post(
        url(world, "member_remove", member_id=membership(world, world.admin).pk), follow=True
    )
    assert Membership.objects.filter(workspace=world.workspace, user=world.admin).exists()
    assert "A workspace must keep at least one admin." in messages_of(response)
    assert not AuditEvent.objects.filter(action="membership.removed").exists()


def test_the_remove_button_asks_first(admin_client, world):
    html = admin_client.get(url(world, "members")).content.decode()
    assert re.search(r'data-confirm="Remove [^"]+ from Acme Marketing\?', html)


# --- Invitations ------------------------------------------------------------------

def test_invite_sends_an_email_whose_link_works(admin_client, client, world):
    response = admin_client.post(
        url(world, "invite"), {"email": "New.Person@example.com", "role": world.roles["editor"].pk},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url(world, "members")
    assert "Invitation sent to new.person@example.com." in messages_of(response)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.com"]
    assert "Acme Marketing" in message.subject
    assert world.admin.display_name in message.body
    html_body = message.alternatives[0].content
    invitation = Invitation.objects.get(email="new.person@example.com")
    expiry = f"{invitation.expires_at:%Y}"
    assert expiry in message.body and expiry in html_body

    link = re.search(r"http://testserver(/invitations/[^/\s]+/)", message.body).group(1)
    assert link in html_body
    page = client.get(link)
    assert page.status_code == 200
    assert "Join Acme Marketing" in page.content.decode()
    assert page.context["invitation"] == invitation


def test_the_invite_form_offers_only_this_workspaces_roles(admin_client, world):
    response = admin_client.get(url(world, "invite"))
    offered = set(response.context["form"].fields["role"].queryset)
    assert offered == set(world.roles.values())


def test_invite_refuses_an_existing_member_on_the_form(admin_client, world):
    response = admin_client.post(
        url(world, "invite"), {"email": "editor@example.com", "role": world.roles["viewer"].pk}
    )
    assert response.status_code == 200
    assert "already a member" in response.content.decode()
    assert not mail.outbox
    assert not Invitation.objects.exists()


def test_invite_refuses_a_bad_address_on_the_form(admin_client, world):
    response = admin_client.post(
        url(world, "invite"), {"email": "not an address", "role": world.roles["viewer"].pk}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert not mail.outbox


def test_invite_withdraws_the_invitation_when_the_email_fails(admin_client, world, monkeypatch):
    def broken_send(self, fail_silently=False):
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", broken_send)
    response = admin_client.post(
        url(world, "invite"), {"email": "new@example.com", "role": world.roles["viewer"].pk},
        follow=True,
    )
    assert any("could not be sent" in m for m in messages_of(response))
    assert Invitation.objects.get(email="new@example.com").status == "revoked"


def test_the_members_page_lists_invitations_with_their_status(admin_client, world):
    pending, _ = invitation_create(workspace=world.workspace, email="pending@example.com",
                                   role=world.roles["viewer"], invited_by=world.admin)
    expired, _ = invitation_create(workspace=world.workspace, email="expired@example.com",
                                   role=world.roles["viewer"], invited_by=world.admin)
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    old, _ = invitation_create(workspace=world.workspace, email="old@example.com",
                               role=world.roles["viewer"], invited_by=world.admin)
    Invitation.objects.filter(pk=old.pk).update(revoked_at=timezone.now() - timedelta(days=90))

    response = admin_client.get(url(world, "members"))
    statuses = {i.email: i.status for i in response.context["invitations"]}
    assert statuses == {"pending@example.com": "pending", "expired@example.com": "expired"}
    html = response.content.decode()
    assert 'badge badge-expired' in html and 'badge badge-pending' in html
    assert html.count(">Revoke</button>") == 1


def test_it_revokes_a_pending_invitation(admin_client, client, world):
    invitation, token = invitation_create(
        workspace=world.workspace, email="new@example.com", role=world.roles["viewer"],
        invited_by=world.admin,
    )
    response = admin_client.post(
        url(world, "invitation_revoke", invitation_id=invitation.pk), follow=True
    )
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert "The invitation for new@example.com was revoked." in messages_of(response)
    assert AuditEvent.objects.filter(action="invitation.revoked").exists()
    assert client.get(reverse("invitations:accept", args=[token])).status_code == 410


def test_revoking_twice_says_so(admin_client, world):
    invitation, _ = invitation_create(
        workspace=world.workspace, email="new@example.com", role=world.roles["viewer"],
        invited_by=world.admin,
    )
    admin_client.post(url(world, "invitation_revoke", invitation_id=invitation.pk))
    response = admin_client.post(
        url(world, "invitation_revoke", invitation_id=invitation.pk), follow=True
    )
    assert "Only a pending invitation can be revoked." in messages_of(response)


# --- Settings ---------------------------------------------------------------------

def test_settings_offers_every_time_zone_sorted(admin_client, world):
    response = admin_client.get(url(world, "settings"))
    choices = [value for value, _ in response.context["form"].fields["time_zone"].choices]
    assert choices == sorted(choices)
    assert "Europe/Paris" in choices
    assert "will be sent to set it up" in response.content.decode()


def test_settings_saves_and_audits(admin_client, world):
    response = admin_client.post(
        url(world, "settings"), {"name": "Acme Growth", "time_zone": "Europe/Paris"}, follow=True
    )
    world.workspace.refresh_from_db()
    assert (world.workspace.name, world.workspace.time_zone) == ("Acme Growth", "Europe/Paris")
    assert world.workspace.require_mfa is False
    assert "Settings saved." in messages_of(response)
    event = AuditEvent.objects.get(action="workspace.settings_changed")
    assert event.details["changes"]["time_zone"] == ["UTC", "Europe/Paris"]


def test_settings_refuses_an_unknown_time_zone_and_a_blank_name(admin_client, world):
    response = admin_client.post(
        url(world, "settings"), {"name": "  ", "time_zone": "Mars/Olympus"}
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "time_zone"}
    world.workspace.refresh_from_db()
    assert world.workspace.name == "Acme Marketing"


def test_requiring_mfa_sends_members_without_it_to_set_it_up(admin_client, client, world):
    admin_client.post(
        url(world, "settings"),
        {"name": "Acme Marketing", "time_zone": "UTC", "require_mfa": "on"},
    )
    world.workspace.refresh_from_db()
    assert world.workspace.require_mfa is True
    client.force_login(world.viewer)
    response = client.get(reverse("dashboard:home", args=[world.workspace.slug]))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


def test_settings_offer_four_eyes_on_by_default(admin_client, world):
    response = admin_client.get(url(world, "settings"))
    html = response.content.decode()
    assert "Campaigns need an approver other than their author (four eyes)" in html
    assert response.context["form"]["require_second_approver"].value() is True


def test_settings_turn_four_eyes_off_and_on_audited(admin_client, world):
    data = {"name": "Acme Marketing", "time_zone": "UTC", "unschedule_when_approval_voided": "on"}
    admin_client.post(url(world, "settings"), data)
    world.workspace.refresh_from_db()
    assert world.workspace.require_second_approver is False
    admin_client.post(url(world, "settings"), {**data, "require_second_approver": "on"})
    world.workspace.refresh_from_db()
    assert world.workspace.require_second_approver is True
    changes = [e.details["changes"] for e in
               AuditEvent.objects.filter(action="workspace.settings_changed").order_by("pk")]
    assert changes == [{"require_second_approver": [True, False]},
                       {"require_second_approver": [False, True]}]
    assert all(e.actor == world.admin for e in AuditEvent.objects.filter(
        action="workspace.settings_changed"))


def test_settings_unschedule_a_changed_campaign_by_default_and_can_turn_it_off(admin_client,
                                                                                world):
    html = admin_client.get(url(world, "settings")).content.decode()
    assert "Unschedule a campaign at once if its approved content changes" in html
    assert world.workspace.unschedule_when_approval_voided is True

    admin_client.post(url(world, "settings"), {"name": "Acme Marketing", "time_zone": "UTC",
                                               "require_second_approver": "on"})

    world.workspace.refresh_from_db()
    assert world.workspace.unschedule_when_approval_voided is False
    event = AuditEvent.objects.get(action="workspace.settings_changed")
    assert event.details["changes"] == {"unschedule_when_approval_voided": [True, False]}
