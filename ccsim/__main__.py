"""Command line: ``python -m ccsim --port 8765 [--contacts N] [--auto-approve] ...``."""
from __future__ import annotations

import argparse
import logging
import signal
import sys

from . import constants
from .server import SimOptions, SimServer


def build_parser() -> argparse.ArgumentParser:
    d = SimOptions()
    p = argparse.ArgumentParser(prog="python -m ccsim",
                                description="Offline simulator of the Constant Contact V3 API + OAuth server.")
    p.add_argument("--host", default=d.host, help=f"bind address (default {d.host})")
    p.add_argument("--port", type=int, default=d.port, help=f"port, 0 = any free port (default {d.port})")
    p.add_argument("--contacts", type=int, default=d.contacts,
                   help="seed a deterministic demo account with N contacts, lists, tags, fields, segments, "
                        "sender emails and past campaigns (default 0: account + senders only)")
    p.add_argument("--seed", type=int, default=d.seed, help="RNG seed for demo data, delivery and faults")
    p.add_argument("--client", dest="clients", action="append", default=[], metavar="ID:SECRET:REDIRECT_URI",
                   help=f"register an OAuth client (repeatable). Always present: {constants.DEMO_CLIENT_ID} / "
                        f"{constants.DEMO_CLIENT_SECRET} / {constants.DEMO_REDIRECT_URI}")
    p.add_argument("--auto-approve", action="store_true", help="consent page approves immediately (302 back)")
    p.add_argument("--rate-per-second", type=float, default=d.rate_per_second,
                   help=f"requests per second per client id (default {d.rate_per_second:g}; 0 = unlimited)")
    p.add_argument("--daily-quota", type=int, default=d.daily_quota,
                   help=f"requests per UTC day per client id (default {d.daily_quota}; 0 = unlimited)")
    p.add_argument("--token-lifetime", type=int, default=d.token_lifetime,
                   help=f"access-token lifetime in seconds (default {d.token_lifetime})")
    p.add_argument("--token-rate-per-second", type=float, default=d.token_rate_per_second,
                   help=f"token endpoint requests per second per client (default {d.token_rate_per_second:g})")
    p.add_argument("--refresh-mode", choices=("rotating", "long_lived"), default=d.refresh_mode,
                   help="refresh-token behaviour (default rotating)")
    p.add_argument("--protect-sent", action="store_true",
                   help="also refuse PUT/DELETE of sent campaigns (stricter than the spec)")
    p.add_argument("--segment-evaluation-polls", type=int, default=d.segment_evaluation_polls,
                   help="202 answers to GET /contacts?segment_id= after each segment edit "
                        f"(default {d.segment_evaluation_polls})")
    p.add_argument("--state", default=None, metavar="PATH",
                   help="persist state to this JSON file (loaded at start, saved periodically and at exit)")
    p.add_argument("--save-interval", type=float, default=d.save_interval, help="seconds between saves")
    p.add_argument("--activity-items-per-second", type=float, default=d.activity_items_per_second,
                   help="bulk activity processing speed")
    p.add_argument("--verbose", "-v", action="store_true", help="log every request")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s ccsim %(message)s")
    opts = SimOptions(**vars(args))
    sim = SimServer(opts).bind()
    def _term(*_):
        raise KeyboardInterrupt      # serve_forever() stops cleanly and saves --state
    signal.signal(signal.SIGTERM, _term)
    print(f"ccsim listening on {sim.base_url}  (API {sim.base_url}/v3, "
          f"authorize {sim.base_url}{constants.AUTHORIZE_PATH}, token {sim.base_url}{constants.TOKEN_PATH})",
          flush=True)
    print(f"demo client: {constants.DEMO_CLIENT_ID} / {constants.DEMO_CLIENT_SECRET} -> {constants.DEMO_REDIRECT_URI}",
          flush=True)
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
