"""Append-only, hash-chained audit events.

An event is written once and never changed: the model refuses updates and
deletes, the queryset refuses bulk updates and deletes, and on PostgreSQL
triggers refuse UPDATE, DELETE (migration 0002) and TRUNCATE (0005) in the
database itself. The app connects as a role that may only SELECT and INSERT
here (docs/audit-log.md).

Each event also carries a hash chained to the previous event's (apps/audit/chain.py),
so a change made past all of that, by whoever owns the table, still shows:
`manage.py verify_audit` names the first broken link.
"""

from django.conf import settings
from django.db import IntegrityError, models, router, transaction
from django.db.models import F
from django.utils import timezone

from apps.audit import chain


class AuditLogIsAppendOnly(Exception):
    """Raised on any attempt to change or remove an audit event."""


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    DENIED = "denied", "Denied"


# Attempts made before anyone is signed in have no actor; the account they were
# aimed at is the target. The audit screen matches these by target (see selectors).
SIGN_IN_ATTEMPT_ACTIONS = ("login.failed", "login.locked_out", "login.mfa_failed")


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditLogIsAppendOnly("Audit events cannot be changed.")

    def delete(self):
        raise AuditLogIsAppendOnly("Audit events cannot be deleted.")

    # bulk_update goes through update(); _raw_delete is what cascades use.
    def _raw_delete(self, using):
        raise AuditLogIsAppendOnly("Audit events cannot be deleted.")

    # bulk_create skips save(), so its rows would stand outside the chain.
    def bulk_create(self, objs, *args, **kwargs):
        raise AuditLogIsAppendOnly("Audit events are written one at a time, each chained.")


class AuditEvent(models.Model):
    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    # PROTECT: a member with a history cannot be deleted (deactivate them instead).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Kept as text too, so the log still reads right if the person's email changes.
    actor_label = models.CharField(max_length=254, blank=True)
    workspace = models.ForeignKey(
        "accounts.Workspace", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    details = models.JSONField(default=dict, blank=True)
    # The chain (apps/audit/chain.py): the previous event's hash, and this one's.
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["workspace", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AuditLogIsAppendOnly("Audit events cannot be changed.")
        using = kwargs.get("using") or router.db_for_write(AuditEvent, instance=self)
        # The hash covers the time as the database will hand it back.
        self.occurred_at = self._meta.get_field("occurred_at").to_python(self.occurred_at)
        # No savepoint of its own: inside a caller's transaction the event and the
        # head move together with the caller's work, and the head stays locked
        # until that transaction ends, so every writer appends to one linear chain.
        with transaction.atomic(using=using, savepoint=False):
            head = AuditChainHead.lock(using=using)
            self.prev_hash = head.last_hash
            self.hash = chain.event_hash(self, prev_hash=self.prev_hash)
            super().save(*args, **kwargs)
            AuditChainHead.objects.using(using).filter(pk=head.pk).update(
                last_hash=self.hash, last_event_id=self.pk
            )

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("Audit events cannot be deleted.")


class AuditChainHead(models.Model):
    """The one row that says where the chain ends; locked by every writer.

    `length` and `last_hash` also let verify_audit notice the newest events
    being removed, which the links between the remaining events cannot show.
    """

    ONLY = 1

    length = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=chain.GENESIS)
    last_event_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"audit chain: {self.length} events, ending {self.last_hash[:12]}"

    @classmethod
    def lock(cls, *, using: str) -> "AuditChainHead":
        """The head, locked until the current transaction ends, counting one more event.

        The lock is an UPDATE rather than SELECT ... FOR UPDATE because SQLite
        ignores FOR UPDATE: a write first takes its database lock before we
        read the tail, so two processes can't both append to the same event.
        """
        heads = cls.objects.using(using).filter(pk=cls.ONLY)
        if not heads.update(length=F("length") + 1):
            # The first event ever (or tests emptied the table): start the chain.
            try:
                with transaction.atomic(using=using):
                    cls.objects.using(using).create(pk=cls.ONLY, length=1)
            except IntegrityError:  # another writer started it first
                heads.update(length=F("length") + 1)
        return heads.get()
