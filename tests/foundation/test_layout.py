"""The shape of the code, read from the source: every stage imports only the
stages before it (and the shared modules), no import cycles, one module
makes template environments, and no command-line module owns a session
(the runner does, for every command)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "tinygen"
CHECKED = ("device", "runner", "submit", "cli")
# The data path, left to right (docs/architecture.md).
STAGES = ("ir", "plan", "codegen", "port", "device", "runner", "submit", "cli")
# Beside the stages, read by the CLI only: the HTML report, the model zoo.
BESIDE = ("report", "zoo")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _tinygen_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every tinygen import in path, at module level or in functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found += [(node.lineno, n) for n in names if n.split(".")[0] == "tinygen"]
    return found


def _part(module: str) -> str:
    """The stage (or beside package) a dotted tinygen module belongs to; "" if shared."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES + BESIDE else ""


def test_every_stage_imports_only_earlier_stages():
    """A stage's modules import the shared modules (tinygen/*.py), their own
    stage and earlier ones; the shared modules import no stage; the packages
    beside the stages are imported by the CLI only. Imports inside functions
    count too: a late import is still a dependency."""
    order = {stage: i for i, stage in enumerate(STAGES)}
    late = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        own = _part(module)
        for line, target in _tinygen_imports(path):
            other = _part(target)
            if not other or other == own or path.name == "__main__.py":
                continue
            if other in BESIDE:
                ok = own == "cli"
            elif own in BESIDE:
                ok = True
            else:
                ok = bool(own) and order[other] <= order[own]
            if not ok:
                late.append(f"{path.relative_to(PACKAGE)}:{line} imports {target}")
    assert not late, "\n".join(late)


def test_every_package_is_a_stage_or_beside_them():
    """No package of its own spans stages (as tinygen/stream once did)."""
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert packages <= set(STAGES + BESIDE), sorted(packages - set(STAGES + BESIDE))


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


@pytest.mark.parametrize("stage", STAGES + BESIDE)
def test_no_import_cycles(stage):
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
