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
