"""The package's layout rules, read from its source with ast so that they stay true.

- no module over 400 lines;
- no import cycle between modules: every import counts, at the top, inside a function or
  under ``TYPE_CHECKING`` (a type-only circle is still two modules that need each other);
- no stage imports the command line (only ``cli/`` and ``__main__`` do);
- the store imports nothing from collect;
- no module imports another module's private name (``from x import _y``) or private module;
- a package's ``__init__.py`` is its face: imports, ``__all__`` and at most a lazy
  ``__getattr__``, no logic of its own.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "newsletter"
MAX_LINES = 400


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the newsletter module imported
    name: str | None  # the name taken from it (``from target import name``), if any
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


@cache
def tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def imports_of(name: str, path: Path) -> Iterator[Import]:
    known = modules()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    yield Import(name, alias.name, None, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            if not base.startswith("newsletter"):
                continue
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                if submodule in known:  # ``from package import module``
                    yield Import(name, submodule, None, node.lineno)
                elif base in known:
                    yield Import(name, base, alias.name, node.lineno)


@cache
def all_imports() -> list[Import]:
    return [found for name, path in modules().items() for found in imports_of(name, path)]


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_rules_see_the_whole_package() -> None:
    """The checks below would pass on nothing: make sure they read what is there."""
    names = modules()
    assert {"newsletter.cli.app", "newsletter.store.stories", "newsletter.build"} <= set(names)
    targets = {(i.module, i.target) for i in all_imports()}
    assert ("newsletter.cli.export_cmds", "newsletter.registry") in targets
    assert ("newsletter.collect.run", "newsletter.collect.readers") in targets
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_is_over_400_lines(name: str) -> None:
    lines = len(modules()[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines: split it into named modules"


def test_no_import_cycles() -> None:
    edges: dict[str, set[str]] = {}
    for found in all_imports():
        if found.target != found.module:
            edges.setdefault(found.module, set()).add(found.target)
    assert cycles(edges) == []


def test_only_the_command_line_imports_the_command_line() -> None:
    wrong = [
        f"{i.module} line {i.line} imports {i.target}"
        for i in all_imports()
        if i.target.startswith("newsletter.cli")
        and not i.module.startswith("newsletter.cli")
        and i.module != "newsletter.__main__"
    ]
    assert wrong == []


def test_the_store_imports_nothing_from_collect() -> None:
    wrong = [
        f"{i.module} line {i.line} imports {i.target}"
        for i in all_imports()
        if i.module.startswith("newsletter.store") and i.target.startswith("newsletter.collect")
    ]
    assert wrong == []


def test_no_module_imports_a_private_name() -> None:
    wrong = [
        f"{i.module} line {i.line} imports {i.name or i.target} from {i.target}"
        for i in all_imports()
        if (i.name is not None and is_private(i.name))
        or (i.target.rpartition(".")[0] != i.module.rpartition(".")[0] and is_private(
            i.target.rpartition(".")[2]))
    ]  # fmt: skip
    assert wrong == []


FACE_DEFINITIONS = {"__getattr__", "__dir__"}


@pytest.mark.parametrize("name", sorted(n for n, p in modules().items() if p.name == "__init__.py"))
def test_a_package_init_is_its_face(name: str) -> None:
    body = tree(modules()[name]).body
    logic = [
        f"line {node.lineno}: {getattr(node, 'name', type(node).__name__)}"
        for node in body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and node.name not in FACE_DEFINITIONS
    ]
    assert logic == [], f"{name}/__init__.py defines logic; move it into a named module"
