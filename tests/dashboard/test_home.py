"""The workspace overview."""


def test_home_shows_only_what_the_role_may_read(client, world):
    client.force_login(world.viewer)
    response = client.get(f"/w/{world.workspace.slug}/")
    assert response.status_code == 200
    assert b"Audit log" not in response.content
