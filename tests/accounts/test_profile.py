"""The member's own profile page (/profile/): their name and time zone, saved and
audited; only for someone logged in; the same in every workspace."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.accounts.services import user_update_profile
from apps.audit.models import AuditEvent

URL = "accounts_profile"


def test_it_sends_anonymous_visitors_to_log_in(client, world):
    response = client.get(reverse(URL))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_it_shows_the_members_name_and_every_time_zone(client, world):
    client.force_login(world.viewer)
    response = client.get(reverse(URL))
    form = response.context["form"]
    assert form["time_zone"].value() == "UTC"
    choices = [value for value, _ in form.fields["time_zone"].choices]
    assert choices == sorted(choices) and "Asia/Tokyo" in choices
    assert "viewer@example.com" in response.content.decode()


def test_it_saves_the_time_zone_and_audits_it(client, world):
    client.force_login(world.viewer)
    response = client.post(reverse(URL), {"full_name": "Vera Viewer",
                                          "time_zone": "Europe/Paris"}, follow=True)
    assert "Your profile was saved." in [str(m) for m in response.context["messages"]]
    world.viewer.refresh_from_db()
    assert (world.viewer.full_name, world.viewer.time_zone) == ("Vera Viewer", "Europe/Paris")
    event = AuditEvent.objects.get(action="profile.changed")
    assert event.actor == world.viewer and event.target == "viewer@example.com"
    assert event.workspace is None
    assert event.details["changes"]["time_zone"] == ["UTC", "Europe/Paris"]


def test_it_refuses_an_unknown_time_zone(client, world):
    client.force_login(world.viewer)
    response = client.post(reverse(URL), {"full_name": "", "time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "time_zone" in response.context["form"].errors
    world.viewer.refresh_from_db()
    assert world.viewer.time_zone == "UTC"
    assert not AuditEvent.objects.filter(action="profile.changed").exists()


def test_only_get_and_post(client, world):
    client.force_login(world.viewer)
    assert client.put(reverse(URL)).status_code == 405


def test_saving_the_same_values_records_nothing(world):
    user_update_profile(user=world.viewer, full_name=world.viewer.full_name, time_zone="UTC")
    assert not AuditEvent.objects.filter(action="profile.changed").exists()


def test_the_service_refuses_an_unknown_time_zone(world):
    with pytest.raises(ValidationError):
        user_update_profile(user=world.viewer, full_name="V", time_zone="Nowhere/Special")
    world.viewer.refresh_from_db()
    assert world.viewer.full_name != "V"
