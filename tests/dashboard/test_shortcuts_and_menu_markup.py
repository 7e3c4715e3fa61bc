"""The frame every page shares: the menu that folds on a phone and the keyboard
shortcuts' help, which lists only the areas the member's role can open."""

from django.urls import reverse
import pytest

pytestmark = pytest.mark.django_db


def home(world) -> str:
    return reverse("dashboard:home", kwargs={"workspace_slug": world.workspace.slug})


def test_the_menu_is_a_disclosure_that_names_the_navigation_it_controls(client, world):
    client.force_login(world.admin)
    html = client.get(home(world)).content.decode()
    assert '<details class="nav-menu" id="nav-menu">' in html
    assert 'aria-controls="sidenav"' in html
    assert '<nav class="sidenav" id="sidenav" aria-label="Workspace">' in html
    assert "· Overview</span>" in html  # the folded menu says where you are


def test_the_shortcuts_help_lists_only_what_the_role_can_open(client, world):
    client.force_login(world.admin)
    html = client.get(home(world)).content.decode()
    assert 'data-nav-key="c"' in html and "Go to Campaigns" in html
    assert 'data-nav-key="a"' in html and "Go to Audit log" in html

    client.force_login(world.viewer)
    html = client.get(home(world)).content.decode()
    assert '<dialog class="shortcuts" id="shortcuts-help"' in html
    assert "Go to Audit log" not in html and 'data-nav-key="a"' not in html


def test_no_inline_script_or_style_in_the_frame(client, world):
    client.force_login(world.admin)
    html = client.get(home(world)).content.decode()
    assert " style=" not in html and " onclick=" not in html and "<style" not in html
