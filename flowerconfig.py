"""Flower settings, read from the environment (see .env.example). Flower always asks for a login."""

from gmbot.env import ConfigError, env, envbool, envint
from gmbot.startup import check_broker

address = env("FLOWER_ADDRESS", "127.0.0.1")
port = envint("FLOWER_PORT", 5555)
url_prefix = env("FLOWER_URL_PREFIX")
# "user:password[,user2:password2]"; read here rather than from the command line so the password
# never shows in `ps`.
basic_auth = [pair.strip() for pair in env("FLOWER_BASIC_AUTH").split(",") if pair.strip()]
if not basic_auth or not all(":" in pair and pair.split(":", 1)[1] for pair in basic_auth):
    raise ConfigError(
        "FLOWER_BASIC_AUTH must be user:password (a comma-separated list for several logins): "
        "Flower never runs without a login."
    )
# The local login .env.example ships with, which is public: never good enough for production.
EXAMPLE_LOGIN = "admin:gmbot-local"
if EXAMPLE_LOGIN in basic_auth and not envbool("DEBUG"):
    raise ConfigError(
        "FLOWER_BASIC_AUTH still holds .env.example's local login and DEBUG is off: "
        "choose a password of your own."
    )
purge_offline_workers = 300
check_broker()
