"""The debug code every broadcast message carries (SPEC B3): `DBG:` and six letters and digits,
unique per delivery. It is the delivery's id scrambled by a bijection (multiplying by a number
prime to 36^6, modulo 36^6), so codes do not count up visibly and the admin finds a delivery from
its code with no table: `delivery_id(code)` inverts it."""

from __future__ import annotations

import re
import string

PREFIX = "DBG:"
_DIGITS = string.digits + string.ascii_uppercase
_SPACE = 36**6  # unique for the first 2,176,782,336 deliveries
_FACTOR = 1_291_467_971  # prime to 36^6: neither 2 nor 3 divides it
_INVERSE = pow(_FACTOR, -1, _SPACE)
CODE_RE = re.compile(r"DBG:([0-9A-Z]{6})", re.IGNORECASE)


def debug_code(delivery_id: int) -> str:
    value = (delivery_id * _FACTOR) % _SPACE
    letters = []
    for _ in range(6):
        value, digit = divmod(value, 36)
        letters.append(_DIGITS[digit])
    return PREFIX + "".join(reversed(letters))


def delivery_id(code: str) -> int | None:
    """The delivery a code names, or None when it is not a code."""
    match = CODE_RE.fullmatch(code.strip())
    if match is None:
        return None
    value = int(match[1].upper(), 36)
    return (value * _INVERSE) % _SPACE
