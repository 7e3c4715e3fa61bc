"""allauth adapter: accounts are created only by accepting an invitation."""

from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # Self-service sign-up would let anyone into a team's Constant Contact
        # account; invitations (apps.accounts.services.invitation_accept) are the way in.
        return False
