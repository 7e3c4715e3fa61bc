"""What the boundary announces to the floors above it.

`connected` is sent once a workspace has been connected to Constant Contact (the
OAuth callback succeeded). The areas listen: each starts its first sync, so a
new workspace fills itself instead of showing 0 contacts until someone finds
"Sync now". The boundary never imports the areas; they import this.

A receiver returns a sentence for the admin who connected ("The first sync …
has started"), or None. One that fails is logged and skipped: connecting has
already succeeded, and a sync can always be started from its screen.
"""

import logging

from django.dispatch import Signal

logger = logging.getLogger(__name__)

# Sent with connection (a Connection) and membership (the admin who connected).
connected = Signal()


def announce_connected(*, connection, membership) -> list[str]:
    """Tell the areas; return what they started, in words, for the admin."""
    said = []
    for receiver, answer in connected.send_robust(
            sender=announce_connected, connection=connection, membership=membership):
        if isinstance(answer, Exception):
            logger.error("after connecting workspace %s, %s failed: %r",
                         connection.workspace_id, getattr(receiver, "__qualname__", receiver),
                         answer, exc_info=answer)
        elif answer:
            said.append(str(answer))
    return said
