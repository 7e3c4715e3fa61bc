"""What the contacts area does when other floors announce something.

Once a workspace is connected to Constant Contact, its first full sync starts by
itself (apps/constantcontact/events.py): without it, Contacts showed 0 until
someone found "Sync now".
"""

from django.dispatch import receiver

from apps.constantcontact.events import connected
from apps.contacts.services.sync import contacts_sync_first


@receiver(connected, dispatch_uid="contacts_first_sync_on_connect")
def start_first_sync(sender, connection, membership, **kwargs) -> str | None:
    run = contacts_sync_first(workspace=connection.workspace, membership=membership)
    if run is None:
        return None
    return ("The first sync of contacts, lists, tags and custom fields has started; "
            "the Sync page shows its progress.")
