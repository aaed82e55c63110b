"""The shape of the later stages, read from the source: no import cycles, and
no command-line module that owns a session (the runner does, for every command)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "tinygen"
CHECKED = ("device", "runner", "submit", "cli")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Module -> tinygen modules it imports, at module level or inside functions."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    found.add(child if child in modules else node.module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _cycle_from(start: str, graph: dict[str, set[str]]) -> list[str] | None:
    """An import path from start back to start, if there is one."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in graph.get(node, ()):
            if nxt == start:
                return path + [start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, path + [nxt]))
    return None


@pytest.mark.parametrize("stage", CHECKED)
def test_no_import_cycles_in_the_later_stages(stage):
    graph = _imports()
    for module in sorted(m for m in graph if m.startswith(f"tinygen.{stage}")):
        cycle = _cycle_from(module, graph)
        assert cycle is None, " -> ".join(cycle)


def test_one_module_makes_template_environments():
    """Every template, C or HTML, is rendered through tinygen/render.py."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        if path != PACKAGE / "render.py":
            assert "jinja2" not in imported, f"{path.relative_to(PACKAGE)} imports jinja2"


def test_no_cli_module_owns_a_session():
    """The CLI parses, calls one runner function and prints: session records,
    their status and the DUT connections are the runner's."""
    owned = ("SessionRecord", "recorded_session", "open_session", "open_energy_bench",
             "default_session_dir", "session_facts")
    for path in sorted((PACKAGE / "cli").glob("*.py")):
        source = ast.parse(path.read_text())
        names = {n.id for n in ast.walk(source) if isinstance(n, ast.Name)}
        names |= {a.asname or a.name for n in ast.walk(source)
                  if isinstance(n, ast.ImportFrom) for a in n.names}
        calls = {n.func.attr for n in ast.walk(source)
                 if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}
        assert not names & set(owned), f"{path.name} uses {sorted(names & set(owned))}"
        assert "finish" not in calls, f"{path.name} finishes a session itself"
