"""The two panels of a campaign's page, approvals and sending, with the approval
panel's forms: the selectors read what the panels show, the view builds the
forms (a page re-shown after a refused POST passes its bound form in)."""

from apps.accounts.models import Membership
from apps.campaigns.forms.approvals import ApprovalDecideForm, ApprovalRequestForm
from apps.campaigns.selectors.approvals import approval_panel
from apps.campaigns.selectors.sending import sending_panel
from apps.mirror.models import Campaign


def campaign_panels(*, campaign: Campaign, membership: Membership,
                    request_form: ApprovalRequestForm | None = None,
                    decide_form: ApprovalDecideForm | None = None) -> dict:
    panel = approval_panel(campaign=campaign, membership=membership)
    if panel.can_request and request_form is None:
        request_form = ApprovalRequestForm()
    if panel.is_pending and panel.can_approve and decide_form is None:
        decide_form = ApprovalDecideForm(
            initial={"approval_id": panel.current.pk, "fingerprint": panel.current.fingerprint}
        )
    return {
        "approval_panel": panel,
        "request_form": request_form if panel.can_request else None,
        "decide_form": decide_form if panel.is_pending and panel.can_approve else None,
        "sending_panel": sending_panel(campaign=campaign, membership=membership),
    }
