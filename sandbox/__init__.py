"""A local Telegram Bot API emulator: `python -m sandbox`, see sandbox/README.md."""
