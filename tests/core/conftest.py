"""Fixtures the core tests borrow: a live simulator and a connected or synced
workspace (tests/contacts/conftest.py), a member with an authenticator app
(tests/accounts/test_mfa.py) and `redis_down` (tests/redis_down.py)."""

from tests.accounts.test_mfa import enrolled  # noqa: F401 — pytest finds fixtures by name
from tests.contacts.conftest import (  # noqa: F401
    connected_world,
    run_sync,
    sim,
    sim_contacts,
    sim_settings,
    synced_world,
)
from tests.redis_down import redis_down  # noqa: F401
