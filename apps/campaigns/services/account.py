"""Writes to the Constant Contact account: its details and its physical address.

Both go through the gate as the member (Account write; the gate checks it
again) and nothing is kept locally but the account page's short-lived cache,
which is forgotten after a write so the next view shows Constant Contact's copy.
The gate audits every call; `account.updated` adds which fields changed (names
only: the values are the owner's contact details).

Two calls can half succeed: the details saved, then the address refused. That
is reported as `AccountPartlySaved`, so the member is told exactly what
Constant Contact now holds rather than "failed".
"""

from dataclasses import dataclass

from apps.accounts.models import Membership, Workspace
from apps.audit.services import audit_event_record
from apps.campaigns.selectors.account import account_snapshot_forget
from apps.constantcontact.errors import Conflict, ConstantContactError
from apps.constantcontact.gate import Actor, ConstantContact, gate_for

__all__ = ["AccountPartlySaved", "AccountUpdate", "account_update"]


@dataclass(frozen=True)
class AccountUpdate:
    fields: list[str]  # upstream names of the summary fields sent
    address: str = ""  # "", "created" or "updated"

    @property
    def changed(self) -> bool:
        return bool(self.fields or self.address)


class AccountPartlySaved(Exception):
    """The account details were saved, then the physical address was refused."""

    def __init__(self, *, update: AccountUpdate, error: ConstantContactError):
        super().__init__(str(error))
        self.update = update
        self.error = error


def _gate(workspace: Workspace, membership: Membership) -> ConstantContact:
    return gate_for(workspace=workspace, actor=Actor.member(membership))


def _address_save(cc: ConstantContact, *, address: dict, exists: bool) -> str:
    if exists:
        cc.call("account.physical_address_update", json=address)
        return "updated"
    try:
        cc.call("account.physical_address_create", json=address)
    except Conflict:
        # Someone added an address since the form was shown (POST answers 409 when
        # one exists, contract §3.8): this member's address replaces it.
        cc.call("account.physical_address_update", json=address)
        return "updated"
    return "created"


def _audit(*, workspace: Workspace, membership: Membership, update: AccountUpdate,
           address_error: ConstantContactError | None = None) -> None:
    details: dict = {"fields": update.fields, "address": update.address}
    if address_error is not None:
        details["address_error"] = address_error.error_key or type(address_error).__name__
    audit_event_record(
        action="account.updated", actor=membership.user, workspace=workspace,
        target="Constant Contact account", details=details,
    )


def account_update(
    *,
    workspace: Workspace,
    membership: Membership,
    summary: dict[str, str],
    address: dict[str, str] | None,
    address_exists: bool,
) -> AccountUpdate:
    """Send the changed summary fields (a partial update: nothing else is touched)
    and, when given, the whole physical address — PUT when the account has one,
    else POST. Raises ConstantContactError when nothing was saved, and
    AccountPartlySaved when the details were but the address was not."""
    if not summary and address is None:
        return AccountUpdate(fields=[])
    cc = _gate(workspace, membership)
    fields: list[str] = []
    if summary:
        cc.call("account.summary_update", json=summary)
        fields = sorted(summary)
    update = AccountUpdate(fields=fields)
    if address is not None:
        try:
            update = AccountUpdate(
                fields=fields, address=_address_save(cc, address=address, exists=address_exists)
            )
        except ConstantContactError as error:
            if not fields:
                raise
            account_snapshot_forget(workspace=workspace)
            _audit(workspace=workspace, membership=membership, update=update,
                   address_error=error)
            raise AccountPartlySaved(update=update, error=error) from error
    account_snapshot_forget(workspace=workspace)
    _audit(workspace=workspace, membership=membership, update=update)
    return update
