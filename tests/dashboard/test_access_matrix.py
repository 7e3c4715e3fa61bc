"""Every dashboard URL × every preset role, an outsider and an anonymous visitor.

The URL conf is walked, so a new view cannot ship without an entry in EXPECTED:
the test fails naming it. Each entry states, independently of the view's own
decorator, which grant the page needs; the test then checks that exactly the
roles holding that grant get in, others get 403, outsiders 404 and anonymous
visitors the login page.
"""

from dataclasses import dataclass
from typing import Callable

from django.urls import URLPattern, URLResolver, get_resolver, reverse
import pytest

from apps.accounts.grants import Access, Area, Capability
from apps.accounts.models import Membership, Role
from apps.accounts.services import invitation_create, role_save
from apps.campaigns.models import SendJob
from apps.mirror.models import Segment, SyncRun
from apps.segments.models import SegmentCount
from tests.factories import (
    CampaignFactory,
    ContactFactory,
    ContactListFactory,
    CustomFieldFactory,
    EmailActivityFactory,
    SendJobFactory,
    SyncRunFactory,
    TagFactory,
)

MEMBERS = ("admin", "editor", "approver", "viewer")


def _no_kwargs(fx) -> dict:
    return {}


@dataclass(frozen=True)
class Rule:
    area: Area | None = None  # None: any member
    access: Access = Access.READ
    capability: Capability | None = None
    method: str = "get"
    kwargs: Callable = _no_kwargs
    # For a page no one grant opens (the Agent requests inbox): who gets in.
    shown_to: Callable | None = None

    def allows(self, role: Role) -> bool:
        if self.shown_to is not None and not self.shown_to(role):
            return False
        if self.area is not None and not role.allows(self.area, self.access):
            return False
        return self.capability is None or role.has_capability(self.capability)


ADMIN = dict(area=Area.ACCOUNT, access=Access.WRITE)


def _member(fx):
    return {"member_id": fx.membership.pk}


def _role(fx):
    return {"role_id": fx.custom_role.pk}


def _invitation(fx):
    return {"invitation_id": fx.invitation.pk}


def _campaign(fx):
    return {"campaign_id": fx.campaign.pk}


def _contact(fx):
    return {"contact_id": fx.contact.pk}


def _list(fx):
    return {"list_id": fx.contact_list.pk}


def _tag(fx):
    return {"tag_id": fx.tag.pk}


def _field(fx):
    return {"field_id": fx.custom_field.pk}


def _segment(fx):
    return {"segment_id": fx.segment.pk}


def _segment_count(fx):
    return {"segment_id": fx.segment.pk, "count_id": fx.segment_count.pk}


def _bulk_job(fx):
    from apps.bulk.models import BulkJob

    return BulkJob.objects.create(workspace=fx.world.workspace, kind=BulkJob.Kind.DELETE,
                                  state=BulkJob.State.SUCCEEDED, created_by=fx.world.editor,
                                  title="Delete 1 chosen contact")


def _bulk_file(fx):
    from apps.bulk.models import BulkFile

    return BulkFile.objects.create(job=_bulk_job(fx), kind=BulkFile.Kind.SNAPSHOT,
                                   name="snapshot.csv", rows=1,
                                   content=b"email_address,first_name\na@example.com,A\n")


def _bulk_draft(fx):
    from apps.bulk.services.imports import import_draft_create

    return import_draft_create(workspace=fx.world.workspace, user=fx.world.editor,
                               name="leads.csv", data=b"email,first_name\na@example.com,A\n")


def _agent(fx):
    from tests.factories import make_agent

    agent, _ = make_agent(fx.membership, name=f"Bot {fx.membership.agents.count() + 1}")
    return {"agent_id": agent.pk}


def _agent_request(fx):
    from apps.agents.models import AgentRequest

    request_obj = AgentRequest.objects.create(
        workspace=fx.world.workspace, agent_name="Bot", owner_email="admin@example.com",
        endpoint_name="contacts.delete", summary="Delete the contact a@example.com",
        grant_needed="write access to Contacts")
    return {"request_id": request_obj.pk}


def _may_see_agent_requests(role: Role) -> bool:
    # Independently of apps.agents.selectors: write on some area, or the send capability.
    return role.can_send or any(role.allows(area, Access.WRITE) for area in Area)


def _area(area: Area, access: Access = Access.READ, **more) -> dict:
    return dict(area=area, access=access, **more)


EXPECTED: dict[str, Rule] = {
    "dashboard:home": Rule(),
    # Campaigns
    "campaigns:campaign_list": Rule(**_area(Area.CAMPAIGNS)),
    "campaigns:campaign_sync": Rule(**_area(Area.CAMPAIGNS, Access.WRITE), method="post"),
    "campaigns:campaign_sync_status": Rule(**_area(Area.CAMPAIGNS)),
    "campaigns:campaign_create": Rule(**_area(Area.CAMPAIGNS, Access.WRITE)),
    "campaigns:campaign_detail": Rule(**_area(Area.CAMPAIGNS), kwargs=_campaign),
    "campaigns:campaign_edit": Rule(**_area(Area.CAMPAIGNS, Access.WRITE), kwargs=_campaign),
    "campaigns:campaign_rename": Rule(**_area(Area.CAMPAIGNS, Access.WRITE), kwargs=_campaign),
    "campaigns:campaign_delete": Rule(**_area(Area.CAMPAIGNS, Access.WRITE), kwargs=_campaign),
    "campaigns:campaign_preview": Rule(**_area(Area.CAMPAIGNS), kwargs=_campaign),
    "campaigns:campaign_preview_html": Rule(**_area(Area.CAMPAIGNS), kwargs=_campaign),
    "campaigns:campaign_gallery": Rule(**_area(Area.CAMPAIGNS, Access.WRITE)),
    "campaigns:campaign_template_html": Rule(**_area(Area.CAMPAIGNS, Access.WRITE),
                                             kwargs=lambda fx: {"slug": "newsletter"}),
    # Approvals and sending
    "campaigns:approval_review": Rule(**_area(Area.CAMPAIGNS), kwargs=_campaign),
    "campaigns:approval_request": Rule(**_area(Area.CAMPAIGNS, Access.WRITE), method="post",
                                       kwargs=_campaign),
    "campaigns:approval_decide": Rule(**_area(Area.CAMPAIGNS, capability=Capability.APPROVE),
                                      method="post", kwargs=_campaign),
    "campaigns:test_send": Rule(**_area(Area.CAMPAIGNS, Access.WRITE), kwargs=_campaign),
    "campaigns:schedule": Rule(**_area(Area.CAMPAIGNS, capability=Capability.SEND),
                               kwargs=_campaign),
    "campaigns:unschedule": Rule(**_area(Area.CAMPAIGNS, capability=Capability.SEND),
                                 kwargs=_campaign),
    "campaigns:job_status": Rule(**_area(Area.CAMPAIGNS), kwargs=lambda fx: {"job_id": fx.job.pk}),
    # Account
    "campaigns:account": Rule(**_area(Area.ACCOUNT)),
    "campaigns:account_refresh": Rule(**_area(Area.ACCOUNT), method="post"),
    "campaigns:account_edit": Rule(**_area(Area.ACCOUNT, Access.WRITE)),
    # Contacts
    "contacts:contact_list": Rule(**_area(Area.CONTACTS)),
    "contacts:contact_detail": Rule(**_area(Area.CONTACTS), kwargs=_contact),
    "contacts:contact_create": Rule(**_area(Area.CONTACTS, Access.WRITE)),
    "contacts:contact_signup_upsert": Rule(**_area(Area.CONTACTS, Access.WRITE)),
    "contacts:contact_edit": Rule(**_area(Area.CONTACTS, Access.WRITE), kwargs=_contact),
    "contacts:contact_delete": Rule(**_area(Area.CONTACTS, Access.WRITE), kwargs=_contact),
    "contacts:contact_list_add": Rule(**_area(Area.CONTACTS, Access.WRITE), method="post",
                                      kwargs=_contact),
    "contacts:contact_list_remove": Rule(**_area(Area.CONTACTS, Access.WRITE), method="post",
                                         kwargs=lambda fx: {**_contact(fx), **_list(fx)}),
    "contacts:contact_tag_add": Rule(**_area(Area.CONTACTS, Access.WRITE), method="post",
                                     kwargs=_contact),
    "contacts:contact_tag_remove": Rule(**_area(Area.CONTACTS, Access.WRITE), method="post",
                                        kwargs=lambda fx: {**_contact(fx), **_tag(fx)}),
    # Sync
    "contacts:sync": Rule(**_area(Area.CONTACTS)),
    "contacts:sync_start": Rule(**_area(Area.CONTACTS, Access.WRITE), method="post"),
    "contacts:sync_status": Rule(**_area(Area.CONTACTS),
                                 kwargs=lambda fx: {"run_id": fx.sync_run.pk}),
    # Lists
    "contacts:list_index": Rule(**_area(Area.LISTS)),
    "contacts:list_create": Rule(**_area(Area.LISTS, Access.WRITE)),
    "contacts:list_detail": Rule(**_area(Area.LISTS), kwargs=_list),
    "contacts:list_edit": Rule(**_area(Area.LISTS, Access.WRITE), kwargs=_list),
    "contacts:list_favorite": Rule(**_area(Area.LISTS, Access.WRITE), method="post",
                                   kwargs=_list),
    "contacts:list_delete": Rule(**_area(Area.LISTS, Access.WRITE), kwargs=_list),
    "contacts:list_delete_status": Rule(**_area(Area.LISTS), method="post", kwargs=_list),
    # Tags
    "contacts:tag_index": Rule(**_area(Area.TAGS)),
    "contacts:tag_create": Rule(**_area(Area.TAGS, Access.WRITE)),
    "contacts:tag_edit": Rule(**_area(Area.TAGS, Access.WRITE), kwargs=_tag),
    "contacts:tag_delete": Rule(**_area(Area.TAGS, Access.WRITE), kwargs=_tag),
    "contacts:tag_delete_status": Rule(**_area(Area.TAGS), method="post", kwargs=_tag),
    # Custom fields
    "contacts:custom_field_index": Rule(**_area(Area.CUSTOM_FIELDS)),
    "contacts:custom_field_create": Rule(**_area(Area.CUSTOM_FIELDS, Access.WRITE)),
    "contacts:custom_field_edit": Rule(**_area(Area.CUSTOM_FIELDS, Access.WRITE),
                                       kwargs=_field),
    "contacts:custom_field_delete": Rule(**_area(Area.CUSTOM_FIELDS, Access.WRITE),
                                         kwargs=_field),
    "segments:segment_index": Rule(**_area(Area.SEGMENTS)),
    "segments:segment_detail": Rule(**_area(Area.SEGMENTS), kwargs=_segment),
    "segments:segment_create": Rule(**_area(Area.SEGMENTS, Access.WRITE)),
    "segments:segment_edit": Rule(**_area(Area.SEGMENTS, Access.WRITE), kwargs=_segment),
    "segments:segment_rename": Rule(**_area(Area.SEGMENTS, Access.WRITE), kwargs=_segment),
    "segments:segment_delete": Rule(**_area(Area.SEGMENTS, Access.WRITE), kwargs=_segment),
    "segments:segment_count": Rule(**_area(Area.SEGMENTS, Access.WRITE), method="post",
                                   kwargs=_segment),
    "segments:segment_count_status": Rule(**_area(Area.SEGMENTS), kwargs=_segment_count),
    "segments:segments_sync": Rule(**_area(Area.SEGMENTS, Access.WRITE), method="post"),
    "segments:segments_sync_status": Rule(**_area(Area.SEGMENTS)),
    # Reports
    "contacts:contact_activity_read": Rule(**_area(Area.CONTACTS), method="post",
                                           kwargs=_contact),
    "reporting:overview": Rule(**_area(Area.REPORTS)),
    "reporting:compare": Rule(**_area(Area.REPORTS)),
    "reporting:campaign_report": Rule(**_area(Area.REPORTS), kwargs=_campaign),
    "reporting:campaign_refresh": Rule(**_area(Area.REPORTS, Access.WRITE), method="post",
                                       kwargs=_campaign),
    "reporting:refresh_all": Rule(**_area(Area.REPORTS, Access.WRITE), method="post"),
    # Bulk jobs (a draft per request: discarding one deletes it)
    "bulk:job_list": Rule(**_area(Area.BULK)),
    "bulk:job_detail": Rule(**_area(Area.BULK), kwargs=lambda fx: {"job_id": _bulk_job(fx).pk}),
    "bulk:job_progress": Rule(**_area(Area.BULK), kwargs=lambda fx: {"job_id": _bulk_job(fx).pk}),
    "bulk:job_cancel": Rule(**_area(Area.BULK, Access.WRITE), method="post",
                            kwargs=lambda fx: {"job_id": _bulk_job(fx).pk}),
    "bulk:job_rows_csv": Rule(**_area(Area.BULK),
                              kwargs=lambda fx: {"job_id": _bulk_job(fx).pk}),
    "bulk:file_download": Rule(**_area(Area.BULK),
                               kwargs=lambda fx: {"file_id": _bulk_file(fx).pk}),
    "bulk:snapshot_reimport": Rule(**_area(Area.BULK, Access.WRITE), method="post",
                                   kwargs=lambda fx: {"file_id": _bulk_file(fx).pk}),
    "bulk:import_upload": Rule(**_area(Area.BULK, Access.WRITE)),
    "bulk:import_map": Rule(**_area(Area.BULK, Access.WRITE),
                            kwargs=lambda fx: {"job_id": _bulk_draft(fx).pk}),
    "bulk:import_review": Rule(**_area(Area.BULK, Access.WRITE),
                               kwargs=lambda fx: {"job_id": _bulk_draft(fx).pk}),
    "bulk:import_discard": Rule(**_area(Area.BULK, Access.WRITE), method="post",
                                kwargs=lambda fx: {"job_id": _bulk_draft(fx).pk}),
    "bulk:action": Rule(**_area(Area.BULK, Access.WRITE)),
    "accounts:members": Rule(**ADMIN),
    "accounts:invite": Rule(**ADMIN),
    "accounts:member_role": Rule(**ADMIN, method="post", kwargs=_member),
    "accounts:member_remove": Rule(**ADMIN, method="post", kwargs=_member),
    "accounts:invitation_revoke": Rule(**ADMIN, method="post", kwargs=_invitation),
    "accounts:roles": Rule(**ADMIN),
    "accounts:role_create": Rule(**ADMIN),
    "accounts:role_edit": Rule(**ADMIN, kwargs=_role),
    "accounts:role_delete": Rule(**ADMIN, method="post", kwargs=_role),
    "accounts:settings": Rule(**ADMIN),
    "agents:list": Rule(**ADMIN),
    "agents:create": Rule(**ADMIN),
    "agents:detail": Rule(**ADMIN, kwargs=_agent),
    "agents:rotate": Rule(**ADMIN, method="post", kwargs=_agent),
    "agents:revoke": Rule(**ADMIN, method="post", kwargs=_agent),
    "agents:request_list": Rule(shown_to=_may_see_agent_requests),
    "agents:request_detail": Rule(shown_to=_may_see_agent_requests, kwargs=_agent_request),
    "agents:request_decide": Rule(shown_to=_may_see_agent_requests, method="post",
                                  kwargs=_agent_request),
    "audit:events": Rule(**ADMIN),
    "audit:export": Rule(**ADMIN),
    "constantcontact:connection": Rule(area=Area.ACCOUNT),
    "constantcontact:connect": Rule(**ADMIN, method="post"),
    "constantcontact:disconnect": Rule(**ADMIN, method="post"),
    "constantcontact:reference": Rule(),
    "constantcontact:budget": Rule(area=Area.ACCOUNT),
}

# Pages outside any workspace, with what an anonymous visitor gets.
PUBLIC = {"index": 302, "healthz": 200, "invitations:accept": 200, "accounts_profile": 302,
          "constantcontact_oauth:callback": 302,
          # A member's own notifications: a login, no workspace; opening is a POST.
          "notifications:list": 302, "notification_preferences": 302,
          "notifications:open": 405, "notifications:read_all": 405,
          # The MCP server: an agent's key, never a session; no key is a 401.
          "mcp": 401}


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            module = getattr(entry.urlconf_module, "__name__", "")
            if module.startswith("allauth"):
                continue  # allauth's own pages have their own tests
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _walk(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{prefix}{entry.name}", entry


def dashboard_urls() -> dict[str, URLPattern]:
    return dict(_walk(get_resolver().url_patterns))


def test_every_dashboard_url_has_an_expectation():
    missing = sorted(set(dashboard_urls()) - set(EXPECTED) - set(PUBLIC))
    assert not missing, f"Add these URL names to EXPECTED in {__file__}: {missing}"


def test_every_expectation_names_a_real_url():
    stale = sorted((set(EXPECTED) | set(PUBLIC)) - set(dashboard_urls()))
    assert not stale, f"These entries name no URL any more: {stale}"


class Fixtures:
    def __init__(self, world):
        self.world = world
        self.membership = Membership.objects.get(workspace=world.workspace, user=world.viewer)
        self.custom_role = role_save(
            workspace=world.workspace, actor=world.admin, name="Interns", description="",
            grants={Area.CONTACTS: Access.READ}, can_approve=False, can_send=False,
        )
        ws = world.workspace
        self.contact_list = ContactListFactory(workspace=ws, name="News")
        self.tag = TagFactory(workspace=ws, name="VIP")
        self.custom_field = CustomFieldFactory(workspace=ws, label="Shoe size")
        self.contact = ContactFactory(workspace=ws, email="a@example.com")
        self.campaign = CampaignFactory(workspace=ws, name="Spring sale", author=world.editor)
        EmailActivityFactory(campaign=self.campaign, subject="Hello")
        self.job = SendJobFactory(campaign=self.campaign, kind=SendJob.Kind.TEST_SEND,
                                  requested_by=world.editor, status=SendJob.Status.SUCCEEDED)
        self.sync_run = SyncRunFactory(workspace=ws, status=SyncRun.Status.SUCCEEDED)
        self.segment = Segment.objects.create(workspace=ws, cc_id="1", name="Recent buyers")
        self.segment_count = SegmentCount.objects.create(workspace=ws, segment=self.segment,
                                                         status=SegmentCount.Status.DONE, count=3)
        self.invitation, self.token = invitation_create(
            workspace=world.workspace, email="new@example.com",
            role=world.roles["viewer"], invited_by=world.admin,
        )


@pytest.fixture
def fx(world):
    return Fixtures(world)


def _url(name: str, rule: Rule, fx, workspace) -> str:
    return reverse(name, kwargs={"workspace_slug": workspace.slug, **rule.kwargs(fx)})


def _request(client, rule: Rule, url: str):
    return getattr(client, rule.method)(url)


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("member", MEMBERS)
def test_members_get_in_exactly_when_their_role_allows(client, fx, name, member):
    world, rule = fx.world, EXPECTED[name]
    client.force_login(world.user(member))
    role = Membership.objects.get(workspace=world.workspace, user=world.user(member)).role
    response = _request(client, rule, _url(name, rule, fx, world.workspace))
    if rule.allows(role):
        assert response.status_code not in (403, 404, 405, 500), response.status_code
        assert "/accounts/login/" not in response.get("Location", "")
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_outsiders_do_not_learn_the_workspace_exists(client, fx, name):
    rule = EXPECTED[name]
    client.force_login(fx.world.outsider)
    response = _request(client, rule, _url(name, rule, fx, fx.world.workspace))
    assert response.status_code == 404


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_anonymous_visitors_are_sent_to_log_in(client, fx, name):
    rule = EXPECTED[name]
    response = _request(client, rule, _url(name, rule, fx, fx.world.workspace))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_pages_answer_anonymous_visitors(client, fx, name):
    kwargs = {"token": fx.token} if name == "invitations:accept" else {}
    if name == "notifications:open":
        kwargs = {"notification_id": 1}
    assert client.get(reverse(name, kwargs=kwargs)).status_code == PUBLIC[name]


@pytest.mark.parametrize("member", MEMBERS)
def test_navigation_shows_only_what_the_role_may_use(client, world, member):
    client.force_login(world.user(member))
    role = Membership.objects.get(workspace=world.workspace, user=world.user(member)).role
    html = client.get(reverse("dashboard:home", kwargs={"workspace_slug": world.workspace.slug}))
    html = html.content.decode()
    for name, rule in EXPECTED.items():
        if rule.method != "get" or rule.kwargs is not _no_kwargs:
            continue  # actions and object pages are not navigation targets
        url = reverse(name, kwargs={"workspace_slug": world.workspace.slug})
        if not rule.allows(role):
            assert f'href="{url}"' not in html, f"{member} sees a link to {name}"

