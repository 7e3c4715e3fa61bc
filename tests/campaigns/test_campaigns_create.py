"""Drafting a campaign against the simulator: the editor offers only the account's
verified senders, checks the tracking image and the planned time before asking
Constant Contact, creates the campaign and sets its lists, stores the planned
time in UTC from the member's zone, and shows every refusal on the form."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.audit.models import AuditEvent
from apps.mirror.models import Campaign, CampaignStatus, ContactList
from tests.campaigns.conftest import campaign_url
from tests.constantcontact.helpers_sim import RequestLog

HTML = "<html><head><title>Hi</title></head><body>[[trackingImage]]<p>Hello</p></body></html>"


@pytest.fixture
def editor(login, synced_world):
    return login(synced_world.editor)


def form_data(**changes) -> dict:
    data = {
        "name": "Autumn news", "from_name": "Acme", "from_email": "news@ccsim-demo.example",
        "reply_to_email": "owner@ccsim-demo.example", "subject": "Autumn is here",
        "preheader": "Leaves and offers", "html_content": HTML, "contact_list_ids": [],
        "planned_send_at": "",
    }
    data.update(changes)
    return data


def sim_campaign_named(world, name: str) -> dict | None:
    with world.sim.state.lock:
        camp = next((c for c in world.sim.state.campaigns.values() if c["name"] == name), None)
        if camp is None:
            return None
        return {**camp, "activity": dict(world.sim.state.campaign_activities[camp["_primary"]])}


def test_the_form_offers_only_verified_sender_addresses(editor, synced_world):
    response = editor.get(campaign_url(synced_world, "campaign_create"))

    html = response.content.decode()
    assert response.status_code == 200
    for verified in ("owner@ccsim-demo.example", "news@ccsim-demo.example",
                     "support@ccsim-demo.example"):
        assert f'value="{verified}"' in html
    assert "unverified@ccsim-demo.example" not in html
    assert "[[trackingImage]]" in html  # the starter HTML already passes the check


def test_the_verified_addresses_are_cached_for_a_few_minutes(editor, synced_world):
    log = RequestLog(synced_world.sim)
    editor.get(campaign_url(synced_world, "campaign_create"))
    editor.get(campaign_url(synced_world, "campaign_create"))

    assert [a.path for a in log.api()] == ["/v3/account/emails"]


def test_a_role_without_account_read_gets_the_addresses_campaigns_already_use(
        login, campaigns_world):
    role = campaigns_world.roles["editor"]
    role.grants = {**role.grants, "account": "none"}
    role.save()
    log = RequestLog(campaigns_world.sim)

    html = login(campaigns_world.editor).get(
        campaign_url(campaigns_world, "campaign_create")).content.decode()

    assert log.api() == []  # the gate would refuse: not even tried
    assert 'value="news@ccsim-demo.example"' in html
    assert "Your role can&#x27;t read the account&#x27;s sender addresses" in html


def test_it_creates_a_draft_with_its_lists_and_planned_time(editor, synced_world):
    synced_world.editor.time_zone = "Europe/Paris"
    synced_world.editor.save()
    lists = list(ContactList.objects.filter(workspace=synced_world.workspace)[:2])
    planned_local = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%d") + "T14:05"

    response = editor.post(campaign_url(synced_world, "campaign_create"), form_data(
        contact_list_ids=[l.cc_id for l in lists], planned_send_at=planned_local,
    ))

    campaign = Campaign.objects.get(name="Autumn news")
    assert response.status_code == 302
    assert response.url == campaign_url(synced_world, "campaign_detail", campaign_id=campaign.pk)
    assert campaign.author == synced_world.editor
    assert campaign.status == CampaignStatus.DRAFT
    upstream = sim_campaign_named(synced_world, "Autumn news")
    assert upstream["activity"]["format_type"] == 5
    assert sorted(upstream["activity"]["contact_list_ids"]) == sorted(l.cc_id for l in lists)
    assert upstream["activity"]["subject"] == "Autumn is here"
    email = campaign.email
    assert email.cc_id == upstream["_primary"]
    assert sorted(email.contact_list_ids) == sorted(l.cc_id for l in lists)
    assert (email.from_email, email.reply_to_email, email.preheader) == (
        "news@ccsim-demo.example", "owner@ccsim-demo.example", "Leaves and offers")
    assert email.html_content == HTML
    assert email.physical_address_in_footer  # Constant Contact's, read back
    # 14:05 in Paris is 12:05 or 13:05 UTC depending on summer time.
    local = email.planned_send_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    assert (local.hour, local.minute) == (14, 5)
    assert email.planned_send_at.tzinfo is not None
    assert AuditEvent.objects.filter(action="campaign.created", actor=synced_world.editor).exists()


def test_a_draft_without_lists_or_time_is_fine(editor, synced_world):
    response = editor.post(campaign_url(synced_world, "campaign_create"), form_data())

    assert response.status_code == 302
    email = Campaign.objects.get(name="Autumn news").email
    assert email.contact_list_ids == [] and email.planned_send_at is None


def test_a_duplicate_name_is_a_form_error(editor, synced_world):
    editor.post(campaign_url(synced_world, "campaign_create"), form_data())

    response = editor.post(campaign_url(synced_world, "campaign_create"),
                           form_data(name="AUTUMN NEWS", subject="Another"))

    assert response.status_code == 200
    assert "already has a campaign with this name" in response.content.decode()
    assert response.context["form"].errors["name"]
    assert Campaign.objects.filter(name__iexact="autumn news").count() == 1


def test_an_unverified_sender_is_refused_before_asking_constant_contact(editor, synced_world):
    editor.get(campaign_url(synced_world, "campaign_create"))  # fills the cache
    log = RequestLog(synced_world.sim)

    response = editor.post(campaign_url(synced_world, "campaign_create"),
                           form_data(from_email="unverified@ccsim-demo.example",
                                     reply_to_email="someone@elsewhere.example"))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "verified addresses" in errors["from_email"][0]
    assert "verified addresses" in errors["reply_to_email"][0]
    assert log.api() == []
    assert not Campaign.objects.exists()


def test_a_sender_unconfirmed_since_the_list_was_cached_is_refused_by_constant_contact(
        editor, synced_world):
    editor.get(campaign_url(synced_world, "campaign_create"))
    with synced_world.sim.state.lock:
        for e in synced_world.sim.state.account_emails:
            if e["email_address"] == "news@ccsim-demo.example":
                e["confirm_status"] = "UNCONFIRMED"

    response = editor.post(campaign_url(synced_world, "campaign_create"), form_data())

    assert response.status_code == 200
    assert "confirmed account email" in response.context["form"].errors["from_email"][0]
    assert not Campaign.objects.exists()
    # The cached list was dropped: the next form offers what the account holds now.
    html = editor.get(campaign_url(synced_world, "campaign_create")).content.decode()
    assert 'value="news@ccsim-demo.example"' not in html


@pytest.mark.parametrize("html, says", [
    ("<html><body><p>No tag</p></body></html>", "Add [[trackingImage]]"),
    ("<html><head>[[trackingImage]]</head><body><p>x</p></body></html>", "inside the <body>"),
    ("<html><body><!-- [[trackingImage]] --><p>x</p></body></html>", "inside the <body>"),
    ("<p>[[trackingImage]] but no body</p>", "needs a <body> element"),
])
def test_a_missing_tracking_image_is_refused(editor, synced_world, html, says):
    log = RequestLog(synced_world.sim)

    response = editor.post(campaign_url(synced_world, "campaign_create"),
                           form_data(html_content=html))

    assert response.status_code == 200
    assert says in response.context["form"].errors["html_content"][0]
    assert not [a for a in log.api() if a.path.startswith("/v3/emails")]
    assert not Campaign.objects.exists()


def test_a_planned_time_in_the_past_is_refused(editor, synced_world):
    past = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")

    response = editor.post(campaign_url(synced_world, "campaign_create"),
                           form_data(planned_send_at=past))

    assert response.status_code == 200
    assert "has passed" in response.context["form"].errors["planned_send_at"][0]
    assert not Campaign.objects.exists()


def test_a_failing_upstream_is_a_message_and_nothing_is_mirrored(editor, synced_world,
                                                                  no_backoff):
    editor.get(campaign_url(synced_world, "campaign_create"))
    synced_world.control("POST", "faults", error_rate_503=1.0)

    response = editor.post(campaign_url(synced_world, "campaign_create"), form_data())

    assert response.status_code == 200
    assert "did not answer" in response.content.decode()
    assert not Campaign.objects.exists()


def test_a_campaign_created_without_its_audience_says_so_and_opens_the_editor(
        editor, synced_world, no_backoff):
    editor.get(campaign_url(synced_world, "campaign_create"))
    # Creating works; reading the new email back (to set its lists) does not.
    synced_world.control("POST", "faults", error_rate_503=1.0, path_prefix="/v3/emails/activities")
    lists = [ContactList.objects.filter(workspace=synced_world.workspace).first().cc_id]

    response = editor.post(campaign_url(synced_world, "campaign_create"),
                           form_data(contact_list_ids=lists), follow=True)

    campaign = Campaign.objects.get(name="Autumn news")
    assert response.redirect_chain[-1][0] == campaign_url(
        synced_world, "campaign_edit", campaign_id=campaign.pk)
    assert "audience could not be set" in response.content.decode()
    assert campaign.email.contact_list_ids == []  # what Constant Contact holds


def test_a_viewer_may_not_draft(login, synced_world):
    client = login(synced_world.viewer)

    assert client.get(campaign_url(synced_world, "campaign_create")).status_code == 403
    assert client.post(campaign_url(synced_world, "campaign_create"),
                       form_data()).status_code == 403
    assert not Campaign.objects.exists()


def test_an_outsider_gets_404(login, synced_world):
    assert login(synced_world.outsider).get(
        campaign_url(synced_world, "campaign_create")).status_code == 404
