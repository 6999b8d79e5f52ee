#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gmbot.settings")
    from django.core.management import execute_from_command_line

    from gmbot.startup import in_one_sentence

    # A bad setting ends the command with one sentence (gmbot.env.ConfigError); a database or
    # Redis that cannot be reached is put the same way wherever the command first touches it.
    with in_one_sentence():
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
