"""The package reads top-down: no import cycle among its modules, counting imports inside
functions and under TYPE_CHECKING (a lazy import may save start-up time; it may not hide a
layer in the wrong place)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "reqhash_check"


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["reqhash_check", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules `name` imports, anywhere in its file."""

    def owner(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                start = ".".join([*base, *([node.module] if node.module else [])])
            else:
                start = node.module or ""
            # `from pkg import sub` imports the submodule; `from mod import name` the module.
            names = [f"{start}.{alias.name}" for alias in node.names] or [start]
            names = [n if n in modules else start for n in names]
        for dotted in names:
            if dotted.startswith("reqhash_check"):
                found = owner(dotted)
                if found is not None and found != name:
                    targets.add(found)
    return targets


def test_no_import_cycles() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    # A package's __init__ importing its own submodules is how packages are built.
    for name in graph:
        graph[name] = {
            t
            for t in graph[name]
            if not (modules[name].name == "__init__.py" and t.startswith(name + "."))
        }
    cycles = []
    for start in graph:
        stack, seen = [(start, (start,))], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    cycles.append(" -> ".join((*trail, nxt)))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, (*trail, nxt)))
    assert cycles == [], cycles[:5]
