"""The PostgreSQL role the app runs as, so the audit log's guards hold against it.

A table's owner may disable its triggers, truncate it or drop it, so the app
must not connect as the owner. Migrations run as the owner; web, worker and
beat connect as an app role that this sets up, run by the owner after every
migrate (docker-compose.yml's `migrate` service):

- ordinary reads and writes (SELECT, INSERT, UPDATE, DELETE) on every table,
  now and — through default privileges — on the tables later migrations create;
- on the audit log, only SELECT and INSERT;
- no TRUNCATE, REFERENCES or TRIGGER anywhere, no ownership, not a member of the
  owner, and none of SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS.

docs/audit-log.md explains the whole arrangement.
"""

import re

from django.db import connection

from apps.audit.models import AuditEvent

# PostgreSQL's own spelling of an unquoted name: nothing to quote, nothing to inject.
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class AppRoleRefused(Exception):
    """The role asked for can't safely be the app's role."""


def _fetch_one(sql: str, params: list | None = None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _execute(*statements: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, params)


def app_role_grant(*, role: str, password: str | None) -> list[str]:
    """Create `role` (or bring it back into line) and grant it exactly the app's
    privileges in the current database. Run as the tables' owner. Returns what
    was done, one line per step, for the command to print."""
    if connection.vendor != "postgresql":
        raise AppRoleRefused("Database roles are a PostgreSQL matter; this database is not.")
    if not _ROLE_NAME.match(role):
        raise AppRoleRefused(f"{role!r} is not a plain lower-case PostgreSQL role name.")
    owner, database, schema = _fetch_one("SELECT current_user, current_database(), "
                                         "current_schema()")
    if role == owner:
        raise AppRoleRefused(
            f"{role} is the role running migrations, the tables' owner; the app needs another."
        )
    done = []
    attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
    password_clause, params = (" PASSWORD %s", [password]) if password else ("", None)
    if _fetch_one("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]) is None:
        _execute(f"CREATE ROLE {role} {attributes}{password_clause}", params=params)
        done.append(f"Created the role {role}.")
    else:
        _execute(f"ALTER ROLE {role} {attributes}{password_clause}", params=params)
        done.append(f"Reset the attributes{' and password' if password else ''} of {role}.")
    (member_of_owner,) = _fetch_one("SELECT pg_has_role(%s, %s, 'MEMBER')", [role, owner])
    if member_of_owner:
        raise AppRoleRefused(f"{role} is a member of {owner}, so it could act as the owner.")

    events = AuditEvent._meta.db_table
    _execute(
        f'GRANT CONNECT ON DATABASE "{database}" TO {role}',
        f'GRANT USAGE ON SCHEMA "{schema}" TO {role}',
        # Whatever an earlier grant gave, only the app's set remains.
        f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {role}',
        f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO {role}',
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO {role}',
        # History is only ever added to. (The chain head, audit_auditchainhead,
        # keeps UPDATE: every writer moves it.)
        f"REVOKE UPDATE, DELETE ON {events} FROM {role}",
        # Tables later migrations create get the same ordinary privileges.
        f'ALTER DEFAULT PRIVILEGES FOR ROLE "{owner}" IN SCHEMA "{schema}" '
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f'ALTER DEFAULT PRIVILEGES FOR ROLE "{owner}" IN SCHEMA "{schema}" '
        f"GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    )
    done.append(
        f"Granted {role} SELECT, INSERT, UPDATE and DELETE on every table of {database} "
        f"(and on those later migrations create), but only SELECT and INSERT on {events}."
    )
    return done
