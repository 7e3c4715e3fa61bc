"""factory_boy factories shared by the tests.

Each builds a valid row with plausible values, so a test spells out only what it
is about: `ContactFactory(workspace=ws, email="ava@example.com")`. Mirrored rows
get a unique Constant Contact id; a row that needs a workspace gets a new one
unless it is given one (usually `world.workspace`).
"""

from datetime import timedelta
import hashlib

from django.utils import timezone
import factory

from apps.accounts.agents import agent_create
from apps.accounts.models import Agent, Invitation, Membership, Role, User, Workspace
from apps.accounts.services import workspace_create
from apps.audit.models import AuditEvent
from apps.campaigns.fingerprint import fingerprint, outgoing_snapshot
from apps.campaigns.models import Approval, SendJob
from apps.mirror.models import (
    Campaign,
    Contact,
    ContactList,
    CustomField,
    EmailActivity,
    ListMembership,
    SyncRun,
    Tag,
    Tagging,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("email",)
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"member{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


# --- Accounts ------------------------------------------------------------------------

class WorkspaceFactory(factory.django.DjangoModelFactory):
    """A workspace as the product makes one (`workspace_create`): with the four
    preset roles, and `admin` (a new member unless given) as its first Admin."""

    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = ""  # workspace_create derives a free one from the name
    admin = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class, *, name, slug, admin, **fields):
        workspace = workspace_create(name=name, admin=admin, slug=slug)
        if fields:  # require_mfa=True and the like: settings changed after creation
            for field, value in fields.items():
                setattr(workspace, field, value)
            workspace.save(update_fields=list(fields))
        return workspace


def preset_role(workspace: Workspace, preset: str) -> Role:
    return workspace.roles.get(preset=preset)


class RoleFactory(factory.django.DjangoModelFactory):
    """A custom role; it grants nothing unless given `grants`."""

    class Meta:
        model = Role

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Custom role {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    """A new member of the workspace, as a Viewer unless given a role."""

    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = factory.LazyAttribute(lambda m: preset_role(m.workspace, "viewer"))


def make_agent(membership: Membership, *, name: str = "", role: Role | None = None,
               **caps) -> tuple[Agent, str]:
    """An agent owned by `membership`, with its owner's role unless given one, as
    the Team screen makes it; returns the agent and its key (shown once)."""
    workspace = membership.workspace
    name = name or f"Agent {Agent.objects.count() + 1}"
    return agent_create(workspace=workspace, name=name, owner=membership,
                        role=role or membership.role, actor=membership.user, **caps)


class InvitationFactory(factory.django.DjangoModelFactory):
    """A pending invitation to join as a Viewer, sent by the workspace's admin.
    Only the hash is stored; pass `token` to know the raw one a link would carry."""

    class Meta:
        model = Invitation

    class Params:
        token = factory.Sequence(lambda n: f"invitation-token-{n}")

    workspace = factory.SubFactory(WorkspaceFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = factory.LazyAttribute(lambda i: preset_role(i.workspace, "viewer"))
    token_hash = factory.LazyAttribute(lambda i: hashlib.sha256(i.token.encode()).hexdigest())
    invited_by = factory.LazyAttribute(
        lambda i: i.workspace.memberships.filter(role__preset="admin").first().user
    )
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


# --- The mirror: audience ------------------------------------------------------------

class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    workspace = factory.SubFactory(WorkspaceFactory)
    cc_id = factory.Sequence(lambda n: f"contact-{n}")
    email = factory.Sequence(lambda n: f"contact{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    # What the mirror stores for search (apps.mirror.mapping).
    search_text = factory.LazyAttribute(
        lambda c: " ".join(part for part in (c.first_name, c.last_name, c.email) if part).lower()
    )


class ContactListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactList

    workspace = factory.SubFactory(WorkspaceFactory)
    cc_id = factory.Sequence(lambda n: f"list-{n}")
    name = factory.Sequence(lambda n: f"Newsletter {n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    workspace = factory.SubFactory(WorkspaceFactory)
    cc_id = factory.Sequence(lambda n: f"tag-{n}")
    name = factory.Sequence(lambda n: f"customer-{n}")


class CustomFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomField

    workspace = factory.SubFactory(WorkspaceFactory)
    cc_id = factory.Sequence(lambda n: f"field-{n}")
    label = factory.Sequence(lambda n: f"Field {n}")
    type = "string"


class ListMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ListMembership

    contact = factory.SubFactory(ContactFactory)
    contact_list = factory.SubFactory(
        ContactListFactory, workspace=factory.SelfAttribute("..contact.workspace")
    )


class TaggingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tagging

    contact = factory.SubFactory(ContactFactory)
    tag = factory.SubFactory(TagFactory, workspace=factory.SelfAttribute("..contact.workspace"))


class SyncRunFactory(factory.django.DjangoModelFactory):
    """A full contacts sync, queued unless given a status."""

    class Meta:
        model = SyncRun

    workspace = factory.SubFactory(WorkspaceFactory)
    scope = SyncRun.Scope.CONTACTS
    kind = SyncRun.Kind.FULL


# --- The mirror: campaigns -----------------------------------------------------------

class CampaignFactory(factory.django.DjangoModelFactory):
    """A draft, without its email: add one with EmailActivityFactory(campaign=...)."""

    class Meta:
        model = Campaign

    workspace = factory.SubFactory(WorkspaceFactory)
    cc_id = factory.Sequence(lambda n: f"campaign-{n}")
    name = factory.Sequence(lambda n: f"Campaign {n}")


class EmailActivityFactory(factory.django.DjangoModelFactory):
    """A campaign's primary email, in the campaign's status and under the id the
    campaign names as its primary activity (if it names one)."""

    class Meta:
        model = EmailActivity

    campaign = factory.SubFactory(CampaignFactory)
    cc_id = factory.LazyAttributeSequence(
        lambda e, n: e.campaign.primary_activity_id or f"activity-{n}"
    )
    status = factory.LazyAttribute(lambda e: e.campaign.status)


# --- Campaigns: what only ccadmin knows ----------------------------------------------

class ApprovalFactory(factory.django.DjangoModelFactory):
    """A pending review request bound to the campaign's email as it is now (the
    campaign needs its email first)."""

    class Meta:
        model = Approval

    campaign = factory.SubFactory(CampaignFactory)
    snapshot = factory.LazyAttribute(lambda a: outgoing_snapshot(a.campaign.email))
    fingerprint = factory.LazyAttribute(lambda a: fingerprint(a.snapshot))
    requested_by = factory.SubFactory(UserFactory)


class SendJobFactory(factory.django.DjangoModelFactory):
    """A queued test send."""

    class Meta:
        model = SendJob

    campaign = factory.SubFactory(CampaignFactory)
    kind = SendJob.Kind.TEST_SEND
    requested_by = factory.SubFactory(UserFactory)


# --- Audit ---------------------------------------------------------------------------

class AuditEventFactory(factory.django.DjangoModelFactory):
    """A successful contact change, by nobody in particular unless given an actor."""

    class Meta:
        model = AuditEvent

    action = "contact.updated"
    actor = None
    actor_label = factory.LazyAttribute(lambda e: e.actor.email if e.actor else "anonymous")
