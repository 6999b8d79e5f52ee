"""Checks JSON objects against the Bot API 10.1 specification (tests/data/telegram-bot-api/):
every required field present, every present field of a documented type, recursively."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from tests.data import BOT_API_SPEC

SPEC_CANDIDATES = (BOT_API_SPEC,)


@cache
def spec() -> dict[str, Any]:
    for path in SPEC_CANDIDATES:
        if path.exists():
            return json.loads(path.read_text())
    raise FileNotFoundError("telegram-bot-api/api.json not found")


def _check_type(value: Any, type_name: str, path: str, problems: list[str]) -> bool:
    """True when `value` is a `type_name`; problems found inside an object are appended."""
    if type_name.startswith("Array of "):
        if not isinstance(value, list):
            return False
        inner = type_name[len("Array of ") :]
        return all(
            _check_type(item, inner, f"{path}[{i}]", problems) for i, item in enumerate(value)
        )
    if type_name == "Integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "Float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name in ("Boolean", "True"):
        return isinstance(value, bool) and (type_name == "Boolean" or value is True)
    if type_name == "String":
        return isinstance(value, str)
    if type_name == "InputFile":
        return isinstance(value, str)
    definition = spec()["types"].get(type_name)
    if definition is None:
        problems.append(f"{path}: unknown type {type_name}")
        return False
    if not isinstance(value, dict):
        return False
    if "subtypes" in definition:
        attempts = []
        for subtype in definition["subtypes"]:
            found: list[str] = []
            if _check_type(value, subtype, path, found) and not found:
                return True
            attempts.append(f"{subtype}: {found[:3]}")
        problems.append(f"{path}: matches no subtype of {type_name} ({'; '.join(attempts)})")
        return True
    problems.extend(object_problems(value, type_name, path))
    return True


def object_problems(value: dict[str, Any], type_name: str, path: str = "$") -> list[str]:
    definition = spec()["types"][type_name]
    problems: list[str] = []
    for field in definition.get("fields", []):
        name = field["name"]
        fixed = re.search(r'always "([^"]+)"', field["description"])
        if fixed and name in value and value[name] != fixed.group(1):
            problems.append(f"{path}.{name}: {type_name} needs {fixed.group(1)!r}")
            continue
        if name not in value:
            if field["required"]:
                problems.append(f"{path}.{name}: required by {type_name} but missing")
            continue
        nested: list[str] = []
        if not any(_check_type(value[name], t, f"{path}.{name}", nested) for t in field["types"]):
            problems.append(f"{path}.{name}: not a {' or '.join(field['types'])}: {value[name]!r}")
        problems.extend(nested)
    return problems


def problems_of(value: Any, types: list[str], path: str = "$") -> list[str]:
    """Problems of `value` against the first of `types` it matches (e.g. Message or Boolean)."""
    best: list[str] | None = None
    for type_name in types:
        found: list[str] = []
        if _check_type(value, type_name, path, found):
            if not found:
                return []
            if best is None:
                best = found
    return best if best is not None else [f"{path}: not a {' or '.join(types)}: {value!r}"]


def returns_of(method: str) -> list[str]:
    return spec()["methods"][method]["returns"]
