"""allauth adapter: accounts are created only by accepting an invitation, and a
login refused by the lockout is audited."""

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ValidationError

from apps.accounts.events import login_locked_out


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Self-service sign-up would let anyone into a team's Constant Contact
        # account; invitations (apps.accounts.services.invitation_accept) are the way in.
        return False

    def pre_authenticate(self, request, **credentials):
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            # allauth's login_failed rate limit refused the attempt before any
            # password check, and sends no signal for it: announce the lockout
            # (apps.audit.receivers records it).
            login_locked_out.send(sender=type(self), request=request,
                                  login=credentials.get("email", ""))
            raise
