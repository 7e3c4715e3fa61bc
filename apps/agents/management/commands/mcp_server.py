"""python manage.py mcp_server --key KEY: the MCP server for one agent, over stdio.

An MCP client starts this command and talks JSON-RPC on its stdin and stdout
(so nothing else may print there; Django's logging goes to stderr). The key
may come from CCADMIN_AGENT_KEY instead of --key, so it need not sit in the
process list. A missing, unknown, revoked or expired key stops it at once,
audited, with the reason on stderr; a key revoked or rotated while it runs
stops the next call (each call reads the agent again and compares its key with
the one this process opened with).
"""

import os

import anyio
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from mcp.server.stdio import stdio_server

from apps.accounts.agents import agent_for_key
from apps.agents.mcp.keys import SessionKey, audit_refusal, refusal_for_key
from apps.agents.mcp.server import build_server

KEY_VARIABLE = "CCADMIN_AGENT_KEY"


class Command(BaseCommand):
    help = "Serve the MCP tools of one agent over stdio (the key from --key or CCADMIN_AGENT_KEY)."

    def add_arguments(self, parser):
        parser.add_argument("--key", default="", help=f"The agent's key; else ${KEY_VARIABLE}.")

    def handle(self, *args, key: str = "", **options):
        key = (key or os.environ.get(KEY_VARIABLE, "")).strip()
        agent = agent_for_key(key) if key else None
        refusal = refusal_for_key(key, agent)
        if refusal is not None:
            reason, message = refusal
            audit_refusal(key=key, agent=agent, reason=reason, transport="stdio")
            raise CommandError(message)
        # A long-lived process: drop a connection the database closed between calls.
        server = build_server(agent.pk, SessionKey.opened_by(agent, transport="stdio"),
                              before_each=close_old_connections)

        async def serve() -> None:
            async with stdio_server() as (read_stream, write_stream):
                await server.run(read_stream, write_stream, server.create_initialization_options())

        anyio.run(serve)
