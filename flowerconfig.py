"""Flower settings, read from the environment (see .env.example). Flower always asks for a login."""

import os

address = os.environ.get("FLOWER_ADDRESS", "127.0.0.1")
port = int(os.environ.get("FLOWER_PORT", "5555"))
url_prefix = os.environ.get("FLOWER_URL_PREFIX", "")
# "user:password[,user2:password2]"; read here rather than from the command line so the password
# never shows in `ps`.
_auth = os.environ.get("FLOWER_BASIC_AUTH", "")
if not _auth:
    raise SystemExit("FLOWER_BASIC_AUTH must be set (user:password): Flower never runs open")
basic_auth = [pair for pair in _auth.split(",") if pair]
purge_offline_workers = 300
