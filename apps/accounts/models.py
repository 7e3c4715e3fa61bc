"""Members, workspaces, roles, memberships and invitations."""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from apps.accounts.grants import Access, Area, Capability


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with an email address; they may belong to several workspaces."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class Workspace(models.Model):
    """One team working on one Constant Contact account."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=50, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    require_mfa = models.BooleanField(
        default=False, help_text="Every member must use two-factor authentication."
    )
    unschedule_when_approval_voided = models.BooleanField(
        default=True,
        help_text="A scheduled campaign whose approved content changes is unscheduled at once.",
    )
    require_second_approver = models.BooleanField(
        default=True,
        help_text="A campaign must be approved by someone other than its author (four eyes).",
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """A named set of grants within a workspace; presets are created with the workspace."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField(max_length=60)
    description = models.CharField(max_length=200, blank=True)
    preset = models.CharField(max_length=20, blank=True, help_text="Preset key, blank if custom.")
    # {area: "none" | "read" | "write"}; a missing area means none.
    grants = models.JSONField(default=dict)
    can_approve = models.BooleanField(default=False)
    can_send = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="role_name_unique")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def access_for(self, area: Area | str) -> Access:
        value = self.grants.get(str(area), "none")
        try:
            return Access.parse(value)
        except KeyError:
            return Access.NONE

    def allows(self, area: Area | str, access: Access) -> bool:
        return self.access_for(area) >= access

    def has_capability(self, capability: Capability) -> bool:
        if capability == Capability.APPROVE:
            return self.can_approve
        return self.can_send

    @property
    def is_admin(self) -> bool:
        return self.allows(Area.ACCOUNT, Access.WRITE)


class Membership(models.Model):
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    # PROTECT: a role in use cannot disappear from under its members.
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="memberships")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} as {self.role}"


class Invitation(models.Model):
    """An emailed link that creates an account and a membership when accepted.

    Only a hash of the token is stored, so a database leak does not leak
    working invitation links.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email} to {self.workspace}"

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"

    @property
    def is_usable(self) -> bool:
        return self.status == "pending"


class Agent(models.Model):
    """An AI agent or script that works on the account through the MCP server.

    A principal like a member, with a role drawn from the same grants, but never
    more than its owner: every check asks both roles (`allows`), so when the owner
    loses a grant the agent loses it at its next call. The key is shown once and
    only its SHA-256 is kept (apps/accounts/agents.py); keys are 256 random
    bits, so a fast hash is enough and lookups stay cheap.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="agents")
    name = models.CharField(max_length=80)
    owner = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="agents")
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="agents")
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    # The key: a public prefix to find the row and to tell keys apart on screen.
    key_prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    key_issued_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="After this moment every call is refused."
    )

    # Caps, on top of the grants.
    daily_quota_percent = models.PositiveSmallIntegerField(
        default=5, help_text="The most of the shared daily API quota this agent may use."
    )
    allowed_endpoints = models.JSONField(
        default=list, blank=True,
        help_text="Catalog endpoint names it may call; empty means all its grants allow.",
    )
    drafts_only = models.BooleanField(
        default=True, help_text="It may write campaign drafts but never ask to schedule one."
    )
    test_recipients = models.JSONField(
        default=list, blank=True, help_text="The only addresses it may send test emails to."
    )
    max_contacts_per_job = models.PositiveIntegerField(
        default=1000, help_text="The most contacts one bulk job it starts may touch."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "name"], name="agent_name_unique")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    # --- what it may do: its role, capped by its owner's -------------------------------
    def access_for(self, area: Area | str) -> Access:
        return min(self.role.access_for(area), self.owner.role.access_for(area))

    def allows(self, area: Area | str, access: Access) -> bool:
        return self.access_for(area) >= access

    def has_capability(self, capability: Capability) -> bool:
        return self.role.has_capability(capability) and self.owner.role.has_capability(
            capability
        )

    # --- whether it may act at all -----------------------------------------------------
    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def status(self) -> str:
        if self.is_revoked:
            return "Revoked"
        if self.is_expired():
            return "Expired"
        return "Active"
