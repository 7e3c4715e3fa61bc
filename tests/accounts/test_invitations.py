"""The public invitation page: every situation an invitee can arrive in."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import Invitation, Membership, User
from apps.accounts.services import invitation_create
from apps.audit.models import AuditEvent
from tests.conftest import PASSWORD
from tests.factories import UserFactory

NEW_PASSWORD = "plum orchard lantern 42"


@pytest.fixture
def invited(world):
    """A pending invitation for a new address, as Editor; returns (invitation, link)."""
    invitation, token = invitation_create(
        workspace=world.workspace, email="newcomer@example.com", role=world.roles["editor"],
        invited_by=world.admin,
    )
    return invitation, reverse("invitations:accept", args=[token])


def sign_up(client, link, **overrides):
    data = {"full_name": "New Comer", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    return client.post(link, {**data, **overrides})


def test_it_answers_404_for_an_unknown_token(client, world):
    response = client.get(reverse("invitations:accept", args=["no-such-token"]))
    assert response.status_code == 404


def test_it_shows_workspace_role_and_inviter(client, world, invited):
    _, link = invited
    html = client.get(link).content.decode()
    assert "Acme Marketing" in html
    assert "Editor" in html
    assert world.admin.display_name in html
    assert "newcomer@example.com" in html
    assert 'name="password1"' in html


def test_accepting_creates_the_account_and_membership_and_logs_in(client, world, invited):
    invitation, link = invited
    response = sign_up(client, link)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:home", args=[world.workspace.slug])

    user = User.objects.get(email="newcomer@example.com")
    assert user.full_name == "New Comer"
    assert user.check_password(NEW_PASSWORD)
    joined = Membership.objects.get(workspace=world.workspace, user=user)
    assert joined.role == world.roles["editor"]
    invitation.refresh_from_db()
    assert invitation.status == "accepted"
    assert client.get(response["Location"]).status_code == 200  # logged in, as a member
    assert {"account.created", "invitation.accepted", "membership.created"} <= set(
        AuditEvent.objects.filter(target="newcomer@example.com").values_list("action", flat=True)
    )


def test_the_link_works_only_once(client, world, invited):
    _, link = invited
    sign_up(client, link)
    client.logout()
    response = client.get(link)
    assert response.status_code == 410
    assert "already accepted" in response.content.decode()


@pytest.mark.parametrize("overrides, field", [
    ({"password2": "something else entirely"}, "password2"),
    ({"password1": "short", "password2": "short"}, "password1"),
    ({"password1": "password123", "password2": "password123"}, "password1"),
    ({"password1": "newcomer@example.com", "password2": "newcomer@example.com"}, "password1"),
    ({"full_name": "   "}, "full_name"),
])
def test_it_refuses_weak_or_mismatched_passwords(client, world, invited, overrides, field):
    _, link = invited
    response = sign_up(client, link, **overrides)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not User.objects.filter(email="newcomer@example.com").exists()


def test_it_refuses_an_expired_invitation_with_410_and_creates_nothing(client, world, invited):
    invitation, link = invited
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(hours=1)
    )
    assert client.get(link).status_code == 410
    response = sign_up(client, link)
    assert response.status_code == 410
    html = response.content.decode()
    assert "expired on" in html
    assert f"ask {world.admin.display_name} for a new one" in html
    assert not User.objects.filter(email="newcomer@example.com").exists()
    assert not AuditEvent.objects.filter(action="invitation.accepted").exists()


def test_it_refuses_a_revoked_invitation_with_410(client, world, invited):
    invitation, link = invited
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    response = sign_up(client, link)
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()
    assert not User.objects.filter(email="newcomer@example.com").exists()


def test_an_existing_account_is_asked_to_log_in_first(client, world, invited):
    _, link = invited
    UserFactory(email="newcomer@example.com")
    response = client.get(link)
    assert response.status_code == 200
    assert response.context["state"] == "log_in"
    assert f'/accounts/login/?next={link.replace("/", "%2F")}' in response.content.decode()
    # And posting the sign-up form anyway does not make a second account.
    sign_up(client, link)
    assert User.objects.filter(email="newcomer@example.com").count() == 1
    assert not Membership.objects.filter(user__email="newcomer@example.com").exists()


def test_logging_in_brings_the_invitee_back_to_accept(client, world, invited):
    _, link = invited
    UserFactory(email="newcomer@example.com")
    response = client.post(
        f"{reverse('account_login')}?next={link}",
        {"login": "newcomer@example.com", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == link


def test_the_invitee_logged_in_accepts_with_one_button(client, world, invited):
    invitation, link = invited
    user = UserFactory(email="newcomer@example.com")
    client.force_login(user)
    page = client.get(link)
    assert page.context["state"] == "confirm"
    assert "Accept and join Acme Marketing" in page.content.decode()

    response = client.post(link)
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:home", args=[world.workspace.slug])
    joined = Membership.objects.get(workspace=world.workspace, user=user)
    assert joined.role == world.roles["editor"]


def test_it_refuses_someone_logged_in_with_another_address(client, world, invited):
    invitation, link = invited
    client.force_login(world.outsider)
    page = client.get(link)
    html = page.content.decode()
    assert page.context["state"] == "wrong_account"
    assert "outsider@example.com" in html and "newcomer@example.com" in html
    assert reverse("account_logout") in html

    response = client.post(link)
    assert response.status_code == 403
    assert not Membership.objects.filter(workspace=world.workspace, user=world.outsider).exists()
    invitation.refresh_from_db()
    assert invitation.is_usable


def test_the_address_comparison_ignores_case(client, world, invited):
    _, link = invited
    user = UserFactory(email="newcomer@example.com")
    user.email = "NewComer@Example.com"
    user.save()
    client.force_login(user)
    assert client.get(link).context["state"] == "confirm"
