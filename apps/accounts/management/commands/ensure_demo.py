"""`manage.py ensure_demo`: the local demo's login (`python3 dev.py run` calls it).

The demo itself (who, which workspace, the published password) is defined once,
in apps.accounts.demo. This command adds one rule on top: it only touches a database
that is the demo's own — empty, or holding the demo admin with the demo password —
so pointing `dev.py run` at a real database can never plant a known login there.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from apps.accounts.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, demo_ensure


class Command(BaseCommand):
    help = "Create the demo admin and workspace on a fresh database, and say how to log in."

    def handle(self, *args, **options):
        User = get_user_model()
        demo_admin = User.objects.filter(email=DEMO_ADMIN_EMAIL).first()
        fresh = not User.objects.exists()
        if not fresh and not (demo_admin and demo_admin.check_password(DEMO_ADMIN_PASSWORD)):
            self.stdout.write("Log in with an existing account (this database already had members).")
            return
        try:
            workspace = demo_ensure()
        except ImproperlyConfigured as error:
            raise CommandError(f"{error} In production use `manage.py createworkspace`.") from None
        if fresh:
            self.stdout.write(f"Created the demo admin and the workspace “{workspace.name}”.")
        self.stdout.write(f"Log in as {DEMO_ADMIN_EMAIL} with the password {DEMO_ADMIN_PASSWORD}")
