"""The code layout's seams: which packages may import which, and no import circles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("services", "models", "templates")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    """Every project module -> the project modules it imports (anywhere in the file, lazily or not)."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = _module_name(path)
            targets: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    targets.add(node.module)
                    targets.update(f"{node.module}.{a.name}" for a in node.names)
                elif isinstance(node, ast.Import):
                    targets.update(a.name for a in node.names)
            graph[name] = {t for t in targets if t.split(".")[0] in PACKAGES}
    modules = set(graph)
    return {m: {t for t in ts if t in modules and t != m} for m, ts in graph.items()}


@pytest.mark.parametrize(
    ("importer", "forbidden"),
    [
        ("services.api", "services.worker"),
        ("services.worker", "services.api"),
        ("models", "services"),
        ("templates", "services"),
        ("services.extraction", "services.packaging"),
        ("services.packaging", "services.extraction"),
        ("services.queue", "services.api"),
        ("services.queue", "services.worker"),
        ("services.pipeline", "services.api"),
        ("services.pipeline", "services.worker"),
    ],
)
def test_package_does_not_import(importer: str, forbidden: str) -> None:
    offenders = sorted(
        f"{m} -> {t}"
        for m, targets in _imports().items()
        if m == importer or m.startswith(importer + ".")
        for t in targets
        if t == forbidden or t.startswith(forbidden + ".")
    )
    assert not offenders, f"{importer} must not import {forbidden}: {offenders}"


def test_no_import_cycles() -> None:
    graph = {m: {t for t in ts if not t.endswith("__init__")} for m, ts in _imports().items()}
    # package __init__ files that merely name the package are not edges
    graph = {m: {t for t in ts if t in graph and graph.get(t) is not None} for m, ts in graph.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, f"import cycles: {cycles}"
