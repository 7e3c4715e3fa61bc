"""Create the PostgreSQL role web, worker and beat connect as, and grant it the
app's privileges and no more (apps/audit/database_roles.py says which).

Run as the tables' owner, after migrate; docker-compose.yml's `migrate` service
does, every time it runs:

    DATABASE_URL=<owner's URL> CCADMIN_APP_DATABASE_URL=<app's URL> \\
        python manage.py grant_app_role

The role's name and password come from the app's own DATABASE_URL, so the two
can't drift apart. Idempotent: running it again resets the role to exactly this.
"""

import os

import dj_database_url
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from apps.audit.database_roles import AppRoleRefused, app_role_grant


class Command(BaseCommand):
    help = "Create the app's PostgreSQL role and grant it the app's privileges (run as owner)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--url-from", default="CCADMIN_APP_DATABASE_URL", metavar="VARIABLE",
            help="The environment variable holding the app's DATABASE_URL "
                 "(default CCADMIN_APP_DATABASE_URL).",
        )

    def handle(self, *args, **options):
        variable = options["url_from"]
        url = os.environ.get(variable, "")
        if not url:
            raise CommandError(f"Set {variable} to the DATABASE_URL web, worker and beat use.")
        app = dj_database_url.parse(url)
        if app["NAME"] != connection.settings_dict["NAME"]:
            raise CommandError(
                f"{variable} names the database {app['NAME']!r}, but this command is "
                f"connected to {connection.settings_dict['NAME']!r}."
            )
        try:
            steps = app_role_grant(role=app["USER"] or "", password=app["PASSWORD"] or None)
        except AppRoleRefused as exc:
            raise CommandError(str(exc)) from None
        for step in steps:
            self.stdout.write(step)
