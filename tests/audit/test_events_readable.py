"""The audit log reads as sentences: actions in words, targets by their names now
(the recorded id or path kept in the expandable details), and the details folded
away so the table fits a laptop screen."""

import re

from apps.audit.wording import action_words
from tests.audit.conftest import make_event
from tests.factories import CampaignFactory, ContactListFactory, EmailActivityFactory


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_calls_and_product_actions_read_as_words():
    assert action_words("cc.emails.schedule") == "Scheduled campaign"
    assert action_words("cc.contacts.get") == "Read contact"
    assert action_words("cc.contacts.list") == "Listed contacts"
    assert action_words("cc.lists.update") == "Updated list"
    assert action_words("campaign.approved") == "Approved campaign"
    assert action_words("invitation.created") == "Invited member"
    assert action_words("contacts.sync_started") == "Started contacts sync"
    # Something new still reads as words rather than as a dotted code.
    assert action_words("widgets.frobnicated") == "Widgets frobnicated"


def test_targets_are_named_and_the_recorded_target_is_in_the_details(
        admin_client, world, events_url):
    spring = CampaignFactory(workspace=world.workspace, cc_id="c-spring", name="Spring sale")
    EmailActivityFactory(campaign=spring, cc_id="a-spring")
    ContactListFactory(workspace=world.workspace, cc_id="l-vip", name="VIP")
    make_event(workspace=world.workspace, actor=world.admin, action="cc.emails.schedule",
               target="POST /emails/activities/a-spring/schedules")
    make_event(workspace=world.workspace, actor=world.admin, action="campaign.approved",
               target="campaign c-spring")
    make_event(workspace=world.workspace, actor=world.admin, action="cc.lists.update",
               target="PUT /contact_lists/l-vip")
    make_event(workspace=world.workspace, actor=world.admin, action="cc.lists.get",
               target="GET /contact_lists/l-gone")

    response = admin_client.get(events_url)
    text = text_of(response)
    html = response.content.decode()

    assert "Scheduled campaign campaign “Spring sale”" in text
    assert "Approved campaign campaign “Spring sale”" in text
    assert "Updated list list “VIP”" in text
    # A thing no longer in the mirror keeps its recorded target.
    assert "Read list GET /contact_lists/l-gone" in text
    # The raw action and target wait in a <details> of the row.
    assert html.count("<details>") == html.count('class="audit-details"') >= 4
    assert "<code>cc.emails.schedule</code>" in html
    assert "<code>POST /emails/activities/a-spring/schedules</code>" in html


def test_another_workspaces_names_are_not_used(admin_client, world, events_url):
    CampaignFactory(workspace=world.other_workspace, cc_id="c-theirs", name="Their secret")
    make_event(workspace=world.workspace, actor=world.admin, action="cc.emails.get",
               target="GET /emails/c-theirs")

    text = text_of(admin_client.get(events_url))

    assert "Their secret" not in text
    assert "Read campaign GET /emails/c-theirs" in text
