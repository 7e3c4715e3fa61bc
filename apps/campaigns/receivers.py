"""What the campaigns area does when other floors announce something.

Once a workspace is connected to Constant Contact, its first campaigns sync
starts by itself (apps/constantcontact/events.py), so the campaign list is not
empty until someone finds "Sync now".
"""

from django.dispatch import receiver

from apps.campaigns.services.sync import campaigns_sync_first
from apps.constantcontact.events import connected


@receiver(connected, dispatch_uid="campaigns_first_sync_on_connect")
def start_first_sync(sender, connection, membership, **kwargs) -> str | None:
    if campaigns_sync_first(workspace=connection.workspace, membership=membership) is None:
        return None
    return "The campaigns are being read from Constant Contact too."
