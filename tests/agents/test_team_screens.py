"""Team → Agents: create, edit, rotate and revoke agents; the key is shown once."""

from datetime import timedelta
import hashlib

from django.urls import reverse
from django.utils import timezone
import pytest

from apps.accounts.agents import agent_for_key
from apps.accounts.models import Agent, Membership
from apps.accounts.services import role_delete
from apps.audit.models import AuditEvent
from apps.constantcontact.agent_caps import budget_member_key
from apps.constantcontact.catalog import ENDPOINTS
from apps.constantcontact.ratelimit import api_budget
from tests.factories import make_agent
from tests.upstream_settings import run_unthrottled


@pytest.fixture(autouse=True)
def own_redis_keys(settings):
    return run_unthrottled(settings, redis_prefix="agents-screens")


def url(world, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"workspace_slug": world.workspace.slug, **kwargs})


def membership(world, name: str) -> Membership:
    return Membership.objects.get(workspace=world.workspace, user=world.user(name))


def create_data(world, **overrides) -> dict:
    return {
        "name": "Newsletter bot", "owner": membership(world, "editor").pk,
        "role": world.roles["editor"].pk, "daily_quota_percent": 10,
        "max_contacts_per_job": 500, "drafts_only": "on",
        "test_recipients": "qa@example.com\n\n  Boss@Example.com \n",
        "allowed_endpoints": ["contacts.list", "contacts.get"], "expires_on": "",
        **overrides,
    }


def key_in(response) -> str:
    text = response.content.decode()
    start = text.index("ccak_")
    return text[start:text.index("<", start)].strip()


# --- Who may use these pages ----------------------------------------------------------

@pytest.mark.parametrize("member", ["editor", "approver", "viewer"])
def test_only_admins_reach_any_agent_page(client, world, member):
    agent, _ = make_agent(membership(world, "admin"), name="Bot")
    client.force_login(world.user(member))
    pages = [("get", url(world, "agents:list")), ("get", url(world, "agents:create")),
             ("post", url(world, "agents:create")),
             ("get", url(world, "agents:detail", agent_id=agent.pk)),
             ("post", url(world, "agents:detail", agent_id=agent.pk)),
             ("post", url(world, "agents:rotate", agent_id=agent.pk)),
             ("post", url(world, "agents:revoke", agent_id=agent.pk))]
    for method, page in pages:
        response = getattr(client, method)(page, create_data(world))
        assert response.status_code == 403, (method, page)
    agent.refresh_from_db()
    assert agent.revoked_at is None and Agent.objects.count() == 1


def test_the_pages_stay_under_team_and_offer_the_whole_catalog(admin_client, world):
    """apps.agents reads the catalog itself: no start-up hook has to hand it over."""
    slug = world.workspace.slug
    assert url(world, "agents:list") == f"/w/{slug}/team/agents/"
    assert url(world, "agents:rotate", agent_id=7) == f"/w/{slug}/team/agents/7/rotate/"
    form = admin_client.get(url(world, "agents:create")).content.decode()
    assert form.count('name="allowed_endpoints"') == len(ENDPOINTS)
    assert "contacts.delete · DELETE" in form and "(only with a member&#x27;s approval)" in form


def test_another_workspaces_agent_is_not_found(admin_client, world):
    outsider = Membership.objects.get(user=world.outsider)
    theirs, _ = make_agent(outsider, name="Theirs")
    assert admin_client.get(url(world, "agents:detail", agent_id=theirs.pk)).status_code == 404
    assert admin_client.post(url(world, "agents:revoke", agent_id=theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


# --- Create, and the key shown once ---------------------------------------------------

def test_creating_an_agent_shows_its_key_once_and_keeps_only_the_hash(admin_client, world):
    response = admin_client.post(url(world, "agents:create"), create_data(world))

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    raw = key_in(response)
    agent = Agent.objects.get(name="Newsletter bot")
    assert agent_for_key(raw) == agent
    assert agent.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in [getattr(agent, f.attname) for f in Agent._meta.fields]
    page = response.content.decode()
    assert "shown only this once" in page
    assert '"CCADMIN_AGENT_KEY": "' + raw in page
    assert "Bearer " + raw in page and "http://testserver/mcp/" in page
    # Caps as entered, addresses cleaned.
    assert agent.owner == membership(world, "editor")
    assert agent.role == world.roles["editor"]
    assert agent.daily_quota_percent == 10 and agent.max_contacts_per_job == 500
    assert agent.test_recipients == ["qa@example.com", "boss@example.com"]
    assert agent.allowed_endpoints == ["contacts.list", "contacts.get"]
    assert agent.drafts_only and agent.expires_at is None
    # No GET shows it again.
    for page_url in (url(world, "agents:list"), url(world, "agents:detail", agent_id=agent.pk)):
        again = admin_client.get(page_url)
        assert again.status_code == 200 and raw not in again.content.decode()
        assert agent.key_prefix in again.content.decode()
    event = AuditEvent.objects.get(action="agent.created")
    assert event.actor == world.admin and event.target == "Newsletter bot"
    assert raw not in str(event.details)


def test_a_taken_name_is_a_clear_form_error(admin_client, world):
    make_agent(membership(world, "admin"), name="Newsletter bot")
    response = admin_client.post(url(world, "agents:create"),
                                 create_data(world, name="newsletter BOT"))
    assert response.status_code == 200
    assert "already exists" in str(response.context["form"].errors["name"])
    assert "ccak_" not in response.content.decode()
    assert Agent.objects.count() == 1


@pytest.mark.parametrize("overrides, field, words", [
    ({"test_recipients": "qa@example.com\nnot an address"}, "test_recipients", "line 2"),
    ({"daily_quota_percent": "0"}, "daily_quota_percent", "greater than or equal to 1"),
    ({"daily_quota_percent": "101"}, "daily_quota_percent", "less than or equal to 100"),
    ({"max_contacts_per_job": "-5"}, "max_contacts_per_job", "greater than or equal to 1"),
    ({"allowed_endpoints": ["contacts.nuke"]}, "allowed_endpoints", "not one of the available"),
    ({"expires_on": "2001-01-01"}, "expires_on", "today or a later day"),
    ({"expires_on": "soon"}, "expires_on", "valid date"),
    ({"expires_on": "9999-12-31"}, "expires_on", "within five years"),
    ({"role": "999999"}, "role", "valid choice"),
    ({"name": "   "}, "name", "required"),
])
def test_bad_input_is_refused_with_a_message_and_no_agent(admin_client, world, overrides,
                                                          field, words):
    response = admin_client.post(url(world, "agents:create"), create_data(world, **overrides))
    assert response.status_code == 200
    assert words in str(response.context["form"].errors[field]).lower().replace("&#x27;", "'")
    assert not Agent.objects.exists()


def test_the_owner_must_be_an_active_member_of_this_workspace(admin_client, world):
    outsider = Membership.objects.get(user=world.outsider)
    response = admin_client.post(url(world, "agents:create"), create_data(world, owner=outsider.pk))
    assert "owner" in response.context["form"].errors
    world.editor.is_active = False
    world.editor.save()
    response = admin_client.post(url(world, "agents:create"), create_data(world))
    assert "owner" in response.context["form"].errors
    assert not Agent.objects.exists()


def test_expiry_is_the_end_of_the_chosen_day_in_the_workspace_zone(admin_client, world):
    world.workspace.time_zone = "Europe/Berlin"
    world.workspace.save()
    day = (timezone.now() + timedelta(days=3)).date()
    admin_client.post(url(world, "agents:create"), create_data(world, expires_on=day.isoformat()))
    agent = Agent.objects.get()
    local = agent.expires_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    assert (local.date(), local.hour, local.minute) == (day + timedelta(days=1), 0, 0)
    page = admin_client.get(url(world, "agents:detail", agent_id=agent.pk))
    assert page.context["form"].initial["expires_on"] == day


# --- The list -------------------------------------------------------------------------

def test_the_list_shows_status_key_prefix_last_use_and_calls_today(admin_client, world):
    editor = membership(world, "editor")
    active, _ = make_agent(editor, name="Active bot", daily_quota_percent=10)
    revoked, _ = make_agent(editor, name="Revoked bot")
    revoked.revoked_at = timezone.now()
    revoked.save()
    make_agent(editor, name="Expired bot", expires_at=timezone.now())
    api_budget().record_call(area="contacts", member=budget_member_key(active), job="",
                             attempts=7)

    response = admin_client.get(url(world, "agents:list"))

    page = response.content.decode()
    rows = {row["agent"].name: row for row in response.context["rows"]}
    assert [rows[n]["agent"].status for n in ("Active bot", "Revoked bot", "Expired bot")] == [
        "Active", "Revoked", "Expired"]
    assert rows["Active bot"]["usage"].calls_today == 7
    assert rows["Active bot"]["usage"].cap == api_budget().quota // 10
    assert active.key_prefix + "…" in page
    assert "Never" in page  # none was used yet
    assert f"7 of {api_budget().quota // 10:,}" in page


def test_a_role_above_the_owners_is_shown_capped(admin_client, world):
    agent, _ = make_agent(membership(world, "viewer"), name="Eager bot", role=world.roles["admin"])
    listing = admin_client.get(url(world, "agents:list")).content.decode()
    assert "Capped by owner's role: Contacts, Lists" in listing
    detail = admin_client.get(url(world, "agents:detail", agent_id=agent.pk))
    rows = {row.label: row for row in detail.context["grants"]}
    assert rows["Contacts"].effective_words == "Read, capped by owner's role"
    assert rows["Send (schedule)"].effective_words == "No, capped by owner's role"
    assert "Read, capped by owner&#x27;s role" in detail.content.decode()


# --- Edit, rotate, revoke -------------------------------------------------------------

def test_editing_changes_role_and_caps_and_audits_each_change(admin_client, world):
    agent, raw = make_agent(membership(world, "editor"), name="Bot", role=world.roles["viewer"])
    data = create_data(world, role=world.roles["editor"].pk, daily_quota_percent=20,
                       test_recipients="", allowed_endpoints=[], drafts_only="")
    response = admin_client.post(url(world, "agents:detail", agent_id=agent.pk), data)

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.role == world.roles["editor"] and agent.daily_quota_percent == 20
    assert not agent.drafts_only and agent.test_recipients == []
    assert agent.name == "Bot" and agent_for_key(raw) == agent  # name and key unchanged
    changes = AuditEvent.objects.get(action="agent.updated").details["changes"]
    assert changes["role"] == ["Viewer", "Editor"]
    assert changes["daily_quota_percent"] == [5, 20]
    # Saving again without changes records nothing.
    admin_client.post(url(world, "agents:detail", agent_id=agent.pk), data)
    assert AuditEvent.objects.filter(action="agent.updated").count() == 1


def test_rotating_shows_a_new_key_once_and_the_old_one_stops(admin_client, world):
    agent, old = make_agent(membership(world, "editor"), name="Bot")
    response = admin_client.post(url(world, "agents:rotate", agent_id=agent.pk))
    new = key_in(response)
    assert new != old and "no-store" in response["Cache-Control"]
    assert agent_for_key(old) is None and agent_for_key(new) == agent
    detail = admin_client.get(url(world, "agents:detail", agent_id=agent.pk))
    assert new not in detail.content.decode()
    assert AuditEvent.objects.filter(action="agent.key_rotated").exists()
    assert admin_client.get(url(world, "agents:rotate", agent_id=agent.pk)).status_code == 405


def test_revoking_refuses_the_key_and_asks_first(admin_client, world):
    agent, _ = make_agent(membership(world, "editor"), name="Bot")
    detail = admin_client.get(url(world, "agents:detail", agent_id=agent.pk)).content.decode()
    assert 'data-confirm="Revoke Bot?' in detail
    response = admin_client.post(url(world, "agents:revoke", agent_id=agent.pk), follow=True)
    agent.refresh_from_db()
    assert agent.status == "Revoked"
    assert "is revoked" in response.content.decode()
    assert AuditEvent.objects.filter(action="agent.revoked").count() == 1
    admin_client.post(url(world, "agents:revoke", agent_id=agent.pk))
    assert AuditEvent.objects.filter(action="agent.revoked").count() == 1


def test_removing_the_owner_removes_the_agent_and_the_page_says_so(admin_client, world):
    owner = membership(world, "editor")
    make_agent(owner, name="Bot")
    members = admin_client.get(url(world, "accounts:members")).content.decode()
    assert "Their agent Bot is deleted too" in members
    admin_client.post(url(world, "accounts:member_remove", member_id=owner.pk))
    assert not Agent.objects.exists()


def test_a_role_an_agent_uses_cannot_be_deleted(world):
    from apps.accounts.grants import Access, Area
    from apps.accounts.services import role_save

    custom = role_save(workspace=world.workspace, actor=world.admin, name="Bots",
                       description="", grants={Area.CONTACTS: Access.READ},
                       can_approve=False, can_send=False)
    make_agent(membership(world, "editor"), name="Bot", role=custom)
    with pytest.raises(Exception, match="agents"):
        role_delete(role=custom, actor=world.admin)
