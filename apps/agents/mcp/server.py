"""The SDK's low-level MCP Server, built for one agent.

The low-level Server (not MCPServer, whose tools are fixed functions) because
each agent has its own tool list, read again on every tools/list: a grant its
owner just lost is gone from the next list. The server holds the key the session
opened with (`SessionKey`): once the agent's key is rotated it lists nothing and
refuses every call (calls.py). Both handlers run the synchronous
Django code of calls.py through `sync_to_async` (thread-sensitive: under the
HTTP bridge it runs in the request's own thread and database connection).
"""

from collections.abc import Callable
import json
from typing import Any

from asgiref.sync import sync_to_async
from mcp import types
from mcp.server import Server

from apps.agents.mcp.calls import session_tools, tool_call
from apps.agents.mcp.keys import SessionKey

SERVER_NAME = "ccadmin"
INSTRUCTIONS = (
    "Tools for one Constant Contact account, as this agent's grants and caps allow. "
    "Reads named mirror_* answer from ccadmin's mirror at no API cost and say how fresh "
    "they are; prefer them. Every write takes dry_run. Sends, deletes, removals and "
    "unsubscribes are never done by an agent: they become a request a member approves "
    "(error needs_approval). Errors are JSON with an `error` code: not_permitted, "
    "over_cap, needs_approval, rate_limited, upstream_error, invalid_arguments."
)


def _listed(agent_id: int, session: SessionKey) -> list[types.Tool]:
    return [types.Tool(name=tool.name, description=tool.description,
                       input_schema=tool.input_schema)
            for tool in session_tools(agent_id=agent_id, session=session)]


def _plain(payload: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe: upstream answers are JSON already; a date from the mirror becomes text."""
    return json.loads(json.dumps(payload, default=str))


def build_server(agent_id: int, session: SessionKey, *,
                 before_each: Callable[[], None] | None = None) -> Server:
    """A Server whose tools are those of agent `agent_id`, for as long as its key is
    still the one `session` opened with. `before_each` runs before every request's
    database work (the stdio process drops stale connections)."""

    def list_now() -> list[types.Tool]:
        if before_each is not None:
            before_each()
        return _listed(agent_id, session)

    def call_now(name: str, arguments: dict[str, Any] | None):
        if before_each is not None:
            before_each()
        return tool_call(agent_id=agent_id, name=name, arguments=arguments, session=session)

    async def on_list_tools(ctx, params) -> types.ListToolsResult:
        return types.ListToolsResult(tools=await sync_to_async(list_now)())

    async def on_call_tool(ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
        answer = await sync_to_async(call_now)(params.name, params.arguments)
        payload = _plain(answer.payload)
        return types.CallToolResult(
            content=[types.TextContent(text=json.dumps(payload, indent=1))],
            structured_content=payload, is_error=answer.is_error,
        )

    return Server(SERVER_NAME, version="1", instructions=INSTRUCTIONS,
                  on_list_tools=on_list_tools, on_call_tool=on_call_tool)
