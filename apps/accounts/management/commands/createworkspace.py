"""`manage.py createworkspace NAME --admin EMAIL`: the first workspace of a deployment.

Sign-up is closed (members arrive by invitation), so a new deployment needs one
way in: this creates the workspace and makes EMAIL its Admin, creating that
member with a one-time password if they do not exist yet.
"""

import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email, validate_slug
from django.db import transaction

from apps.accounts.models import Workspace
from apps.accounts.services import workspace_create


class Command(BaseCommand):
    help = "Create a workspace with EMAIL as its Admin (creating that member if needed)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The workspace's name, e.g. “Marketing”.")
        parser.add_argument("--admin", required=True, metavar="EMAIL",
                            help="The first Admin's email address.")
        parser.add_argument("--slug", default="", help="The URL name (default: from the name).")

    def handle(self, *args, name: str, admin: str, slug: str, **options):
        name, email = name.strip(), admin.strip().lower()
        if not name:
            raise CommandError("Give the workspace a name.")
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{admin!r} is not an email address.") from None
        if slug:
            try:
                validate_slug(slug)
            except ValidationError:
                raise CommandError(f"{slug!r} is not a valid URL name.") from None
            if Workspace.objects.filter(slug=slug).exists():
                raise CommandError(f"A workspace already uses the URL name {slug!r}.")

        User = get_user_model()
        password = None
        try:
            with transaction.atomic():
                user = User.objects.filter(email__iexact=email).first()
                if user is None:
                    # 16 random bytes: a one-time secret the admin replaces after logging in.
                    password = secrets.token_urlsafe(16)
                    user = User.objects.create_user(email, password)
                workspace = workspace_create(name=name, admin=user, slug=slug)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None

        self.stdout.write(f"Created the workspace “{workspace.name}” (/w/{workspace.slug}/) "
                          f"with {user.email} as its Admin.")
        if password:
            self.stdout.write(f"{user.email} can log in with this one-time password: {password}")
            self.stdout.write("Change it and turn on two-factor authentication after logging in.")
