"""The workspace overview and the navigation beside every page."""

import re


def test_home_shows_only_what_the_role_may_read(client, world):
    client.force_login(world.viewer)
    response = client.get(f"/w/{world.workspace.slug}/")
    assert response.status_code == 200
    assert b"Audit log" not in response.content


def _current_nav_item(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" aria-current="page"[ >]', html)


def test_the_overview_is_the_current_page_only_on_itself(client, world):
    client.force_login(world.admin)
    home = f"/w/{world.workspace.slug}/"

    assert _current_nav_item(client.get(home).content.decode()) == [home]
    # The contacts sync page has no entry of its own: nothing lights up, not Overview.
    assert _current_nav_item(client.get(f"{home}sync/").content.decode()) == []
    assert _current_nav_item(client.get(f"{home}team/roles/").content.decode()) == [
        f"{home}team/roles/"
    ]
