"""The management commands that open a deployment: the local demo and the first workspace."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import Membership, User, Workspace
from apps.audit.models import AuditEvent
from apps.accounts.demo import DEMO_ADMIN_EMAIL as DEMO_EMAIL
from apps.accounts.demo import DEMO_ADMIN_PASSWORD as DEMO_PASSWORD
from tests.factories import UserFactory


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def debug(settings):
    settings.DEBUG = True
    settings.CCADMIN_ALLOW_DEMO = False  # as in development: DEBUG alone allows the demo


@pytest.mark.django_db
def test_the_demo_gets_an_admin_and_a_workspace_on_a_fresh_database(debug):
    output = run("ensure_demo")

    membership = Membership.objects.select_related("workspace", "role").get(user__email=DEMO_EMAIL)
    assert membership.workspace.name == "Demo Marketing"
    assert membership.role.is_admin
    assert f"Log in as {DEMO_EMAIL} with the password {DEMO_PASSWORD}" in output


@pytest.mark.django_db
def test_the_demo_login_works(debug, client):
    run("ensure_demo")

    response = client.post("/accounts/login/", {"login": DEMO_EMAIL, "password": DEMO_PASSWORD})

    assert response.status_code == 302
    assert client.get("/")["Location"] == "/w/demo/"


@pytest.mark.django_db
def test_running_the_demo_again_changes_nothing(debug):
    run("ensure_demo")
    output = run("ensure_demo")

    assert User.objects.count() == 1
    assert Workspace.objects.count() == 1
    assert "Created" not in output
    assert DEMO_PASSWORD in output


@pytest.mark.django_db
def test_the_demo_never_plants_its_login_in_a_database_with_members(debug):
    UserFactory(email="someone@corp.test")

    output = run("ensure_demo")

    assert not User.objects.filter(email=DEMO_EMAIL).exists()
    assert not Workspace.objects.exists()
    assert DEMO_PASSWORD not in output
    assert "existing account" in output


@pytest.mark.django_db
def test_the_demo_leaves_a_real_admin_at_the_demo_address_alone(debug, world):
    # world.admin is admin@example.com too, with a password of their own.
    output = run("ensure_demo")

    assert not Workspace.objects.filter(slug="demo").exists()
    assert DEMO_PASSWORD not in output


@pytest.mark.django_db
def test_the_demo_refuses_to_run_without_debug(settings):
    settings.DEBUG = False
    settings.CCADMIN_ALLOW_DEMO = False

    with pytest.raises(CommandError, match="local development only"):
        run("ensure_demo")
    assert not User.objects.exists()


@pytest.mark.django_db
def test_createworkspace_creates_the_admin_with_a_one_time_password(client):
    output = run("createworkspace", "Marketing", admin="Boss@Example.com")

    user = User.objects.get(email="boss@example.com")
    membership = Membership.objects.select_related("role", "workspace").get(user=user)
    assert membership.workspace.slug == "marketing"
    assert membership.role.is_admin
    password = output.split("one-time password: ")[1].split()[0]
    assert user.check_password(password)
    assert AuditEvent.objects.filter(action="workspace.created", workspace=membership.workspace).exists()


@pytest.mark.django_db
def test_createworkspace_makes_an_existing_member_admin_without_touching_their_password(world):
    output = run("createworkspace", "Sales Team", admin=world.editor.email, slug="sales")

    membership = Membership.objects.get(user=world.editor, workspace__slug="sales")
    assert membership.role.is_admin
    assert "password" not in output
    world.editor.refresh_from_db()
    assert world.editor.check_password("correct horse battery staple")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("  ", {"admin": "boss@example.com"}, "Give the workspace a name"),
        ("Marketing", {"admin": "not-an-address"}, "is not an email address"),
        ("Marketing", {"admin": "boss@example.com", "slug": "no spaces"}, "not a valid URL name"),
        ("Marketing", {"admin": "boss@example.com", "slug": "acme-marketing"}, "already uses"),
    ],
)
def test_createworkspace_refuses_bad_input_with_a_clear_message(world, name, options, message):
    workspaces_before = Workspace.objects.count()

    with pytest.raises(CommandError, match=message):
        run("createworkspace", name, **options)
    assert Workspace.objects.count() == workspaces_before
