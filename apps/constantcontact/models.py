"""The workspace's connection to its Constant Contact account.

Tokens are stored only encrypted (`crypto.py`) and only `tokens.py` reads or
writes them; they never appear in repr, str, forms, the admin or logs.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Connection(models.Model):
    class Status(models.TextChoices):
        NOT_CONNECTED = "not_connected", "Not connected"
        CONNECTED = "connected", "Connected"
        NEEDS_RECONNECT = "needs_reconnect", "Needs reconnecting"

    workspace = models.OneToOneField(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="cc_connection"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NOT_CONNECTED)
    # From GET /account/summary (contract §3.8).
    account_id = models.CharField(max_length=100, blank=True)
    account_name = models.CharField(max_length=200, blank=True)
    account_email = models.EmailField(blank=True)
    # Space-separated, as the token endpoint returns them.
    granted_scopes = models.CharField(max_length=255, blank=True)
    # Ciphertext only. editable=False keeps them out of every ModelForm and the admin.
    access_token_ciphertext = models.TextField(blank=True, editable=False)
    refresh_token_ciphertext = models.TextField(blank=True, editable=False)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    # Bumped on every new token pair: a fencing number, so a process can tell that
    # someone else refreshed while it waited.
    token_version = models.PositiveIntegerField(default=0, editable=False)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    connected_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Constant Contact connection for {self.workspace_id} ({self.status})"

    def __repr__(self) -> str:
        return f"<Connection workspace={self.workspace_id} status={self.status}>"

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.granted_scopes.split())

    @property
    def is_connected(self) -> bool:
        return self.status == self.Status.CONNECTED
