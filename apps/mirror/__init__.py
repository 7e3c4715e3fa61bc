"""The mirror floor: ccadmin's local copy of the Constant Contact account, and
the machinery that keeps it fresh.

It holds one model per mirrored upstream resource (contacts, lists, tags, custom
fields, campaigns and their emails), what turns Constant Contact's JSON into
those rows, the sync runs (single-flight, with progress and freshness), and the
pending asynchronous activities (deletes that finish later upstream).

Every area (contacts, campaigns, and the ones to come) stands on this floor and
reads the mirror from here; areas never import one another. What only ccadmin
knows (approvals, send jobs) belongs to its area, not here.
"""
