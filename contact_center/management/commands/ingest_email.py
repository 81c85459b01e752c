"""``manage.py ingest_email --to ADDRESS < message.eml``: one mail from an MTA's pipe transport.

Postfix (docs/email.md), for example, in master.cf::

    parley unix - n n - - pipe flags=Rq user=parley argv=/app/manage.py ingest_email --to ${recipient}

Exit statuses follow sysexits.h, so the MTA retries only what a retry can fix: 0 when the mail was
stored or quarantined (a quarantined mail is kept with its reason; sending it again would not help),
75 (EX_TEMPFAIL) when the database could not be reached, 64 (EX_USAGE) for a bad command line.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from channels_adapters.email.inbound import receive_email
from contact_center.models import RawInbound

EX_OK, EX_USAGE, EX_TEMPFAIL = 0, 64, 75


class Command(BaseCommand):
    help = "Store one email read from standard input, for the inbox of --to (an MTA's pipe transport)."

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True, help="the address it was delivered to (the envelope recipient)")

    def create_parser(self, prog_name, subcommand, **kwargs):
        # A bad command line is EX_USAGE, not argparse's 2 or Django's 1 (an MTA would read those as
        # something else).
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def usage_error(message):
            parser.print_usage(sys.stderr)
            sys.stderr.write(f"ingest_email: {message}\n")
            sys.exit(EX_USAGE)

        parser.error = usage_error
        return parser

    def handle(self, *args, to: str, **options):
        raw = sys.stdin.buffer.read()
        try:
            row = receive_email(raw, to, via="pipe")
        except DatabaseError as exc:
            self.stderr.write(f"ingest_email: the database is not reachable, try again later ({exc})")
            sys.exit(EX_TEMPFAIL)
        if row.state == RawInbound.State.QUARANTINED:
            self.stderr.write(f"ingest_email: quarantined as #{row.pk}: {row.error}")
        else:
            # A bounce of our own mail is stored without an entry: it marked that reply failed.
            self.stdout.write(f"stored as entry #{row.entry_id}" if row.entry_id else f"stored as bounce #{row.pk}")
        sys.exit(EX_OK)
