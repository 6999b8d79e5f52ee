"""The import graph keeps the layers apart: the Telegram client knows no product app, the shared
apps know no feature, and only the webhook's wiring reaches into apps/ingress."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The apps of the project each lower layer may import (itself included); any other app may
# import these layers and its own modules, never apps/ingress.
LAYERS = {
    "telegram": {"telegram"},
    "bots": {"bots", "telegram"},
    "chats": {"chats", "bots", "telegram"},
}
# The wiring that hands requests and jobs to the webhook and dispatch: not an app.
INGRESS_WIRING = {"gmbot/wsgi.py"}


def imported_apps(path: Path) -> Iterator[tuple[int, str]]:
    """(line, app) for every `apps.<app>` the file imports, at the top or inside a function."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            if node.module == "apps":
                modules = [f"apps.{alias.name}" for alias in node.names]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] == "apps" and len(parts) > 1:
                yield node.lineno, parts[1]


def violations(folder: str) -> list[str]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        where = path.relative_to(ROOT)
        parts = where.parts
        own = parts[1] if folder == "apps" and len(parts) > 2 else None
        for line, app in imported_apps(path):
            if own in LAYERS and app not in LAYERS[own]:
                found.append(f"{where}:{line} imports apps.{app} (layer {own})")
            if app == "ingress" and own != "ingress" and str(where) not in INGRESS_WIRING:
                found.append(f"{where}:{line} imports apps.ingress")
    return found


def test_the_client_imports_no_other_app_and_only_the_wiring_imports_ingress():
    assert violations("apps") == []
    assert violations("gmbot") == []


def test_the_layering_check_sees_an_import_inside_a_function(tmp_path):
    module = tmp_path / "client.py"
    module.write_text("def f():\n    from apps.chats.models import Group\n    return Group\n")

    assert list(imported_apps(module)) == [(2, "chats")]
