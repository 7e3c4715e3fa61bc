"""The demo admin and workspace that the embedded default (`dev.py run`) starts with.

The password is fixed and printed by the run command: this account exists only
on a developer's own machine, never in production (DEBUG off refuses to create it).
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from apps.accounts.models import User, Workspace
from apps.accounts.services import workspace_create

DEMO_ADMIN_EMAIL = "admin@example.com"
DEMO_ADMIN_PASSWORD = "ccadmin-demo-password"
DEMO_WORKSPACE_NAME = "Demo Marketing"
DEMO_WORKSPACE_SLUG = "demo"


def demo_ensure() -> Workspace:
    """Create the demo admin and workspace unless they exist; return the workspace."""
    if not settings.DEBUG and not getattr(settings, "CCADMIN_ALLOW_DEMO", False):
        raise ImproperlyConfigured("The demo account is for local development only.")
    with transaction.atomic():
        admin = User.objects.filter(email=DEMO_ADMIN_EMAIL).first()
        if admin is None:
            admin = User.objects.create_user(
                email=DEMO_ADMIN_EMAIL, password=DEMO_ADMIN_PASSWORD, full_name="Demo Admin"
            )
        workspace = Workspace.objects.filter(slug=DEMO_WORKSPACE_SLUG).first()
        if workspace is None:
            workspace = workspace_create(
                name=DEMO_WORKSPACE_NAME, admin=admin, slug=DEMO_WORKSPACE_SLUG
            )
    return workspace
