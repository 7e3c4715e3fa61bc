"""The MCP server agents work through (issue 13).

    tools.py     the tool catalog: generated from the endpoint catalog, filtered per agent
    reads.py     the curated mirror reads (0 API calls)
    calls.py     running one tool call for one agent: checks, the call, the audit
    errors.py    the structured errors a tool answers with
    keys.py      whether a key may open the server; the audit of a refusal
    server.py    the SDK's low-level Server, built for one agent
    http.py      streamable HTTP at /mcp/, inside the Django app (Bearer key)

The stdio transport is `python manage.py mcp_server --key KEY`
(apps/agents/management/commands/mcp_server.py).
"""
