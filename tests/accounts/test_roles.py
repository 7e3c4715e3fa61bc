"""The roles screens: the grant matrix, creating, editing and deleting roles."""

from django.urls import reverse
import pytest

from apps.accounts.grants import Access, Area
from apps.accounts.models import Membership, Role
from apps.accounts.services import invitation_create, role_save
from apps.audit.models import AuditEvent
from tests.factories import RoleFactory


def url(world, name: str, **kwargs) -> str:
    return reverse(f"accounts:{name}", kwargs={"workspace_slug": world.workspace.slug, **kwargs})


def role_data(name="Interns", description="", approve=False, send=False, **grants) -> dict:
    data = {"name": name, "description": description}
    data.update({f"grant_{area.value}": grants.get(area.value, "none") for area in Area})
    if approve:
        data["can_approve"] = "on"
    if send:
        data["can_send"] = "on"
    return data


def admin_data(world, **changes) -> dict:
    role = world.roles["admin"]
    data = role_data(name=role.name, description=role.description, approve=True, send=True,
                     **{area.value: "write" for area in Area})
    data.update(changes)
    return data


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def interns(world) -> Role:
    return role_save(
        workspace=world.workspace, actor=world.admin, name="Interns", description="",
        grants={Area.CONTACTS: Access.READ}, can_approve=False, can_send=False,
    )


@pytest.mark.parametrize("member", ["editor", "approver", "viewer"])
def test_it_refuses_non_admins_on_every_roles_page(client, world, interns, member):
    client.force_login(world.user(member))
    pages = [
        ("get", url(world, "roles")),
        ("get", url(world, "role_create")),
        ("post", url(world, "role_create")),
        ("get", url(world, "role_edit", role_id=interns.pk)),
        ("post", url(world, "role_edit", role_id=interns.pk)),
        ("post", url(world, "role_delete", role_id=interns.pk)),
    ]
    for method, page in pages:
        response = getattr(client, method)(page, role_data(name="Hijacked"))
        assert response.status_code == 403, (method, page)
    assert Role.objects.filter(pk=interns.pk, name="Interns").exists()
    assert not Role.objects.filter(name="Hijacked").exists()


def test_it_does_not_reach_roles_of_another_workspace(admin_client, world):
    foreign = world.other_workspace.roles.get(preset="viewer")
    assert admin_client.get(url(world, "role_edit", role_id=foreign.pk)).status_code == 404
    assert admin_client.post(url(world, "role_delete", role_id=foreign.pk)).status_code == 404
    assert Role.objects.filter(pk=foreign.pk).exists()


def test_the_list_shows_grants_capabilities_counts_and_presets(admin_client, world, interns):
    response = admin_client.get(url(world, "roles"))
    assert response.status_code == 200
    roles = {role.name: role for role in response.context["role_list"]}
    assert list(roles) == ["Admin", "Approver", "Editor", "Interns", "Viewer"]
    assert roles["Viewer"].member_count == 1
    assert roles["Interns"].member_count == 0
    matrix = {line["area"]: dict(zip(roles, line["cells"])) for line in response.context["matrix"]}
    assert matrix[Area.CONTACTS]["Interns"] == Access.READ
    assert matrix[Area.ACCOUNT]["Editor"] == Access.READ
    assert matrix[Area.ACCOUNT]["Admin"] == Access.WRITE
    html = response.content.decode()
    assert html.count(">Preset</span>") == 4
    assert html.count(">Custom</span>") == 1
    assert 'aria-label="Delete Interns"' in html
    assert 'aria-label="Delete Viewer"' not in html  # in use


def test_the_form_renders_a_grant_grid_of_radios(admin_client, world):
    html = admin_client.get(url(world, "role_create")).content.decode()
    assert 'class="grant-grid"' in html
    for area in Area:
        for level in ("none", "read", "write"):
            assert f'name="grant_{area.value}" value="{level}"' in html
    assert 'name="can_approve"' in html and 'name="can_send"' in html


def test_it_creates_a_custom_role_and_audits_it(admin_client, world):
    response = admin_client.post(
        url(world, "role_create"),
        role_data(name="Reporters", description="Reads the numbers", send=True,
                  reports="write", campaigns="read"),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url(world, "roles")
    role = Role.objects.get(workspace=world.workspace, name="Reporters")
    assert role.preset == ""
    assert role.access_for(Area.REPORTS) == Access.WRITE
    assert role.access_for(Area.CAMPAIGNS) == Access.READ
    assert role.access_for(Area.CONTACTS) == Access.NONE
    assert (role.can_approve, role.can_send) == (False, True)
    assert "Role “Reporters” saved." in messages_of(response)
    event = AuditEvent.objects.get(action="role.created")
    assert event.actor == world.admin and event.target == "Reporters"
    assert event.details["grants"]["reports"] == "write"


def test_it_refuses_a_duplicate_name_on_the_form(admin_client, world):
    response = admin_client.post(url(world, "role_create"), role_data(name="editor"))
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Role.objects.filter(workspace=world.workspace).count() == 4


def test_it_refuses_an_unknown_access_level(admin_client, world):
    response = admin_client.post(url(world, "role_create"), role_data(contacts="owner"))
    assert response.status_code == 200
    assert "grant_contacts" in response.context["form"].errors
    assert not Role.objects.filter(name="Interns").exists()


def test_the_edit_form_starts_from_the_roles_grants(admin_client, world, interns):
    form = admin_client.get(url(world, "role_edit", role_id=interns.pk)).context["form"]
    assert form["grant_contacts"].value() == "read"
    assert form["grant_lists"].value() == "none"
    assert form["name"].value() == "Interns"


def test_it_edits_a_preset_role_and_audits_the_change(admin_client, world):
    viewer = world.roles["viewer"]
    data = role_data(name="Viewer", description=viewer.description,
                     **{area.value: "read" for area in Area})
    data["grant_contacts"] = "write"
    admin_client.post(url(world, "role_edit", role_id=viewer.pk), data)
    viewer.refresh_from_db()
    assert viewer.access_for(Area.CONTACTS) == Access.WRITE
    assert viewer.preset == "viewer"
    event = AuditEvent.objects.get(action="role.updated")
    assert event.details["changes"] == {"contacts": ["read", "write"]}


def test_it_refuses_to_edit_the_admin_role_into_no_admin(admin_client, world):
    response = admin_client.post(
        url(world, "role_edit", role_id=world.roles["admin"].pk),
        admin_data(world, grant_account="read"),
    )
    assert response.status_code == 200
    assert "without an admin" in response.content.decode()
    assert response.context["role"].name == "Admin"
    admin_role = Role.objects.get(pk=world.roles["admin"].pk)
    assert admin_role.access_for(Area.ACCOUNT) == Access.WRITE
    assert not AuditEvent.objects.filter(action="role.updated").exists()


def test_dropping_account_write_from_ones_own_role_is_allowed_when_another_admin_remains(
    admin_client, world
):
    backup = RoleFactory(workspace=world.workspace, name="Owners", grants={"account": "write"})
    Membership.objects.filter(workspace=world.workspace, user=world.editor).update(role=backup)
    response = admin_client.post(
        url(world, "role_edit", role_id=world.roles["admin"].pk),
        admin_data(world, grant_account="read"),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:home", args=[world.workspace.slug])
    assert not Role.objects.get(pk=world.roles["admin"].pk).is_admin


def test_it_deletes_an_unused_role_and_audits_it(admin_client, world, interns):
    response = admin_client.post(url(world, "role_delete", role_id=interns.pk), follow=True)
    assert not Role.objects.filter(pk=interns.pk).exists()
    assert "Role “Interns” deleted." in messages_of(response)
    assert AuditEvent.objects.filter(action="role.deleted", target="Interns").exists()


def test_it_refuses_to_delete_a_role_in_use(admin_client, world):
    response = admin_client.post(
        url(world, "role_delete", role_id=world.roles["viewer"].pk), follow=True
    )
    assert Role.objects.filter(pk=world.roles["viewer"].pk).exists()
    assert any("in use" in m for m in messages_of(response))


def test_it_refuses_to_delete_a_role_with_a_pending_invitation(admin_client, world, interns):
    invitation_create(workspace=world.workspace, email="new@example.com", role=interns,
                      invited_by=world.admin)
    admin_client.post(url(world, "role_delete", role_id=interns.pk))
    assert Role.objects.filter(pk=interns.pk).exists()
