"""Walk the audit log's hash chain and say whether it is whole.

    python manage.py verify_audit

Exits 0 and prints the chain's length and last hash (worth noting somewhere
outside the database: a chain rewritten from the start would still be whole,
but would end elsewhere), or exits 1 naming the first broken link.
"""

from django.core.management.base import BaseCommand, CommandError

from apps.audit.verification import audit_chain_verify


class Command(BaseCommand):
    help = "Check the audit log's hash chain; exit 1 at the first broken link."

    def handle(self, *args, **options):
        report = audit_chain_verify()
        broken = report.first_break
        if broken is not None:
            where = (
                f"event {broken.event_id} ({broken.occurred_at}, {broken.action})"
                if broken.event_id is not None
                else "its end"
            )
            raise CommandError(
                f"The audit chain is broken at {where}: {broken.problem}. "
                f"The {report.length} events before it are intact."
            )
        self.stdout.write(
            f"The audit chain is whole: {report.length} events, the last is "
            f"event {report.last_event_id}, its hash {report.last_hash}."
        )
