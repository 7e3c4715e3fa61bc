"""`manage.py createagent WORKSPACE_SLUG NAME --owner EMAIL --role ROLE_NAME`: an agent
from the shell, for scripts and deployments; its key is printed once.

The same agent Team → Agents makes, with the same checks: the owner must be an
active member of the workspace, the name free, and the agent gets no more than
its owner holds, whatever its role says.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db.models import Q
from django.utils import timezone

from apps.accounts.agents import agent_create
from apps.accounts.models import Membership, Role, Workspace
from apps.agents.selectors.team import endpoint_names


class Command(BaseCommand):
    help = "Create an agent for a workspace and print its API key (shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("workspace", metavar="WORKSPACE_SLUG",
                            help="The workspace's URL name, as in /w/<slug>/.")
        parser.add_argument("name", metavar="NAME", help="The agent's name, e.g. “Newsletter bot”.")
        parser.add_argument("--owner", required=True, metavar="EMAIL",
                            help="The member it works for; it never gets more than they hold.")
        parser.add_argument("--role", required=True, metavar="ROLE_NAME",
                            help="One of the workspace's roles, e.g. Viewer or Editor.")
        parser.add_argument("--quota-percent", type=int, default=5, metavar="N",
                            help="Its share of the daily API quota, 1-100 (default 5).")
        parser.add_argument("--max-contacts", type=int, default=1000, metavar="N",
                            help="The most contacts one bulk job may touch (default 1000).")
        parser.add_argument("--expires-in-days", type=int, default=None, metavar="DAYS",
                            help="Refuse its calls after this many days (default: never).")
        parser.add_argument("--endpoint", action="append", default=[], metavar="NAME",
                            help="Allow only these catalog endpoints (repeat; default: all "
                            "its grants allow), e.g. --endpoint contacts.list.")
        parser.add_argument("--test-recipient", action="append", default=[], metavar="EMAIL",
                            help="An address it may send test emails to (repeat).")
        parser.add_argument("--allow-schedule-requests", action="store_true",
                            help="Let it ask for campaigns to be scheduled (default: drafts only).")

    def handle(self, *args, workspace: str, name: str, owner: str, role: str, **options):
        space = Workspace.objects.filter(slug=workspace).first()
        if space is None:
            raise CommandError(f"No workspace has the URL name {workspace!r}.")
        membership = (
            Membership.objects.select_related("user")
            .filter(workspace=space, user__email__iexact=owner.strip()).first()
        )
        if membership is None:
            raise CommandError(f"{owner} is not a member of {space.name}.")
        chosen = Role.objects.filter(workspace=space).filter(
            Q(name__iexact=role.strip()) | Q(preset__iexact=role.strip())
        ).first()
        if chosen is None:
            names = ", ".join(Role.objects.filter(workspace=space).values_list("name", flat=True))
            raise CommandError(f"{space.name} has no role called {role!r}. Its roles: {names}.")
        caps = self._caps(options)
        try:
            agent, raw_key = agent_create(workspace=space, name=name, owner=membership,
                                          role=chosen, actor=None, **caps)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None

        self.stdout.write(raw_key)
        self.stderr.write(
            f"Created agent “{agent.name}” in {space.name} (owner {membership.user.email}, "
            f"role {chosen.name}). The key above is shown only this once: give it to the "
            "agent as CCADMIN_AGENT_KEY (stdio) or as Authorization: Bearer (HTTP /mcp/)."
        )

    @staticmethod
    def _caps(options) -> dict:
        percent, most = options["quota_percent"], options["max_contacts"]
        if not 1 <= percent <= 100:
            raise CommandError("--quota-percent must be between 1 and 100.")
        if most < 1:
            raise CommandError("--max-contacts must be at least 1.")
        days = options["expires_in_days"]
        if days is not None and days < 1:
            raise CommandError("--expires-in-days must be at least 1.")
        unknown = sorted(set(options["endpoint"]) - endpoint_names())
        if unknown:
            raise CommandError(f"Not catalog endpoints: {', '.join(unknown)} (see the API "
                               "reference page for their names).")
        recipients = []
        for address in options["test_recipient"]:
            try:
                validate_email(address.strip())
            except ValidationError:
                raise CommandError(f"{address!r} is not an email address.") from None
            recipients.append(address.strip().lower())
        return {
            "daily_quota_percent": percent, "max_contacts_per_job": most,
            "expires_at": timezone.now() + timedelta(days=days) if days else None,
            "allowed_endpoints": list(dict.fromkeys(options["endpoint"])),
            "test_recipients": list(dict.fromkeys(recipients)),
            "drafts_only": not options["allow_schedule_requests"],
        }
