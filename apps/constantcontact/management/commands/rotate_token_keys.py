"""Re-encrypt every stored Constant Contact token under the first key of
CCADMIN_FERNET_KEYS.

Key rotation: put the new key first in CCADMIN_FERNET_KEYS (keep the old one
after it), deploy, run this command, then remove the old key.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from apps.constantcontact import crypto
from apps.constantcontact.models import Connection


class Command(BaseCommand):
    help = "Re-encrypt every stored Constant Contact token with the newest key."

    def handle(self, *args, **options):
        rotated = 0
        for pk in Connection.objects.values_list("pk", flat=True):
            # One row at a time, locked, so a token refresh can't interleave.
            with transaction.atomic():
                row = Connection.objects.select_for_update().get(pk=pk)
                try:
                    row.access_token_ciphertext = crypto.rotate(row.access_token_ciphertext)
                    row.refresh_token_ciphertext = crypto.rotate(row.refresh_token_ciphertext)
                except crypto.TokenDecryptionError as exc:
                    raise CommandError(
                        f"Connection {pk}: {exc} Is the old key still in CCADMIN_FERNET_KEYS?"
                    ) from None
                row.save(update_fields=["access_token_ciphertext", "refresh_token_ciphertext"])
            rotated += 1
        self.stdout.write(f"Re-encrypted the tokens of {rotated} connection(s).")
