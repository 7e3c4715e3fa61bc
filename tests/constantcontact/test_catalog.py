"""The catalog agrees with Constant Contact's published spec (build 3.0.178)."""

from functools import cache
from pathlib import Path
import re

import pytest
import yaml

from apps.accounts.grants import Access, Capability
from apps.constantcontact.catalog import CATALOG, ENDPOINTS, Effect, endpoint
from ccsim.spec import SPEC_PATH

ROOT = Path(__file__).resolve().parents[2]
# cc.call("emails.get", ...), cc.pages("contacts.list", ...), endpoint("...")
CALL = re.compile(r'\b(?:call|pages|endpoint)\(\s*"([a-z_]+\.[a-z_]+)"')


@cache
def spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text())


def operation(entry):
    return spec()["paths"].get(entry.path, {}).get(entry.method.lower())


def spec_scopes(op) -> set[str]:
    # security: [{"oauth2_implicit": [...]}, {"oauth2_access_code": [...]}]
    return {scope for requirement in op.get("security", []) for scopes in requirement.values()
            for scope in scopes}


def test_spec_is_the_v3_api():
    assert spec()["basePath"] == "/v3"
    assert spec()["info"]["version"] == "3.0.178"


@pytest.mark.parametrize("entry", ENDPOINTS, ids=lambda e: e.name)
def test_every_endpoint_exists_in_the_spec(entry):
    assert operation(entry) is not None, f"{entry} is not in the spec"


@pytest.mark.parametrize("entry", ENDPOINTS, ids=lambda e: e.name)
def test_every_endpoint_needs_the_scope_the_spec_says(entry):
    assert spec_scopes(operation(entry)) == {entry.scope.value}


@pytest.mark.parametrize("entry", ENDPOINTS, ids=lambda e: e.name)
def test_every_endpoint_names_the_privilege_the_spec_says(entry):
    assert operation(entry).get("x-authorization-privileges") == [entry.privilege]


@pytest.mark.parametrize("entry", ENDPOINTS, ids=lambda e: e.name)
def test_every_path_parameter_is_declared_in_the_spec(entry):
    op = operation(entry)
    declared = {p["name"] for p in op.get("parameters", []) if p.get("in") == "path"}
    assert set(entry.path_params) == declared


def test_operation_names_are_unique():
    assert len(CATALOG) == len(ENDPOINTS)


def test_every_endpoint_the_product_calls_is_in_the_catalog():
    # Calls name their endpoint as a string (cc.call("emails.get", ...)); a typo
    # would only fail when that line runs, so read every call site here instead.
    called = set()
    for path in (ROOT / "apps").rglob("*.py"):
        called.update(CALL.findall(path.read_text(encoding="utf-8")))
    assert called, "no gate calls found: the pattern below went stale"
    assert sorted(called - set(CATALOG)) == []


def test_reads_never_change_anything_and_writes_need_write_access():
    for entry in ENDPOINTS:
        if entry.method == "GET":
            assert entry.access == Access.READ and entry.effect == Effect.NONE, entry.name
        elif entry.capability is None:
            assert entry.access == Access.WRITE, entry.name


def test_scheduling_and_unscheduling_need_the_send_capability():
    assert endpoint("emails.schedule").capability == Capability.SEND
    assert endpoint("emails.unschedule").capability == Capability.SEND
    assert endpoint("emails.schedule").effect == Effect.SENDS_EMAIL


def test_the_bulk_paths_are_the_ones_in_the_spec():
    assert endpoint("activities.contact_delete").path == "/activities/contact_delete"
    assert endpoint("activities.contact_exports").path == "/activities/contact_exports"


def test_only_posts_count_as_unsafe_to_repeat():
    assert not endpoint("emails.schedule").idempotent
    assert not endpoint("activities.contacts_json_import").idempotent
    assert endpoint("contacts.update").idempotent
    assert endpoint("activities.contact_delete").is_bulk
    assert not endpoint("contacts.create").is_bulk
