"""Talking to the MCP server with the SDK's own client, from synchronous tests.

    answer = over_http(live_server.url, key, lambda client: client.list_tools())
    answer = over_stdio(env, key, lambda client: client.call_tool("mirror_lists", {}))

Each opens one session, runs `actions(client)` (async) and closes it; the
tests stay synchronous (the database is the test's), only the client is async.
"""

from collections.abc import Awaitable, Callable
import json
from pathlib import Path
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anyio
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from apps.accounts.models import Role

ROOT = Path(__file__).resolve().parents[3]
T = TypeVar("T")


def over_http(base_url: str, key: str, actions: Callable[[Client], Awaitable[T]],
              *, mode: str = "auto") -> T:
    async def run() -> T:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"},
                                      timeout=30) as http:
            transport = streamable_http_client(f"{base_url}/mcp/", http_client=http)
            async with Client(transport, mode=mode) as client:
                return await actions(client)

    return run_async(run)


def over_stdio(env: dict[str, str], key: str, actions: Callable[[Client], Awaitable[T]]) -> T:
    params = StdioServerParameters(
        command=sys.executable, args=["manage.py", "mcp_server"], cwd=str(ROOT),
        # The key from the environment, as the README suggests (not in `ps`).
        env={**env, "CCADMIN_AGENT_KEY": key},
    )

    async def run() -> T:
        async with Client(params, mode="legacy") as client:
            return await actions(client)

    return run_async(run)


def run_async(run: Callable[[], Awaitable[T]]) -> T:
    """Run the client on an event loop of its own thread: Playwright's sync API (the
    browser tests, which may run first) leaves a loop running in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, run).result()


async def tool_names(client: Client) -> list[str]:
    return [tool.name for tool in (await client.list_tools()).tools]


def payload(result) -> dict[str, Any]:
    """A tool result's JSON answer (structured content, else its text)."""
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


def role(workspace, name: str, *, can_send: bool = False, **grants: str) -> Role:
    return Role.objects.create(workspace=workspace, name=name, grants=grants, can_send=can_send)
