"""`python -m sandbox --host 127.0.0.1 --port 8081 [--settings JSON]`"""

from __future__ import annotations

import argparse
import json
import logging
import os

from aiohttp import web

from sandbox.server import Sandbox


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--host", default=os.environ.get("SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", "8081")))
    parser.add_argument(
        "--settings",
        default=os.environ.get("SANDBOX_SETTINGS", "{}"),
        help="initial limits/timing settings as JSON, e.g. '{\"time_scale\": 10}'",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sandbox = Sandbox(json.loads(args.settings))
    logging.getLogger("sandbox").info(
        "Telegram Bot API sandbox listening on http://%s:%s", args.host, args.port
    )
    web.run_app(
        sandbox.app(),
        host=args.host,
        port=args.port,
        access_log=logging.getLogger("aiohttp.access") if args.access_log else None,
        print=None,
        handle_signals=True,
    )


if __name__ == "__main__":
    main()
