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


# Package level: each subpackage and top-level module of reqhash_check is one node, read as
# a pipeline: command → configuration → files → sources → look-ups → rules → report → fixes.
# The model modules below are the ground floor any layer may import: each is a node of its
# own, and imports only the ground floor.
GROUND_FLOOR = frozenset(
    {
        "reqhash_check.findings",
        "reqhash_check.hashes",
        "reqhash_check.targets",
        "reqhash_check.index.base",  # the Index protocol and what it answers (ReleaseLookup)
        "reqhash_check.requirements.model",
    }
)

ALLOWED_BACK_EDGES = {
    ("reqhash_check.check", "reqhash_check.rules"): (
        "the engine (check.checks) loads the rule modules, which register themselves on "
        "import and read the contexts of check/; the engine moving out of check/ "
        "(STYLE.md's engine.py) ends it"
    ),
}
"""Package imports that close a cycle, each with why it is still there. Empty is the aim."""


def _package(module: str) -> str:
    if module in GROUND_FLOOR:
        return module
    return ".".join(module.split(".")[:2])


def _package_graph() -> dict[tuple[str, str], set[str]]:
    """(importing package, imported package) → the module imports that make the edge."""
    modules = _modules()
    edges: dict[tuple[str, str], set[str]] = {}
    for name, path in modules.items():
        for target in _imports(name, path, modules):
            source, dest = _package(name), _package(target)
            if source != dest:
                edges.setdefault((source, dest), set()).add(f"{name} -> {target}")
    return edges


def _cycles(edges: set[tuple[str, str]], limit: int = 200) -> list[list[str]]:
    """Every elementary cycle (up to `limit`), each from its smallest node."""
    graph: dict[str, set[str]] = {}
    for source, dest in edges:
        graph.setdefault(source, set()).add(dest)
    found: list[list[str]] = []
    for start in sorted(graph):
        stack = [(start, [start])]
        while stack and len(found) < limit:
            node, trail = stack.pop()
            for nxt in sorted(graph.get(node, ()), reverse=True):
                if nxt == start:
                    found.append([*trail, start])
                elif nxt > start and nxt not in trail:
                    stack.append((nxt, [*trail, nxt]))
    return found


def _describe(cycle: list[str], edges: dict[tuple[str, str], set[str]]) -> str:
    steps = []
    for source, dest in zip(cycle, cycle[1:], strict=False):
        steps.append(f"{source} -> {dest} ({sorted(edges[(source, dest)])[0]})")
    return "; ".join(steps)


def test_ground_floor_imports_only_ground_floor() -> None:
    above = {
        (source, dest)
        for source, dest in _package_graph()
        if source in GROUND_FLOOR and dest not in GROUND_FLOOR
    }
    assert above == set(), sorted(above)


def test_no_package_cycles() -> None:
    edges = _package_graph()
    cycles = _cycles(set(edges) - set(ALLOWED_BACK_EDGES))
    assert cycles == [], [_describe(cycle, edges) for cycle in cycles[:10]]


def test_every_allowed_back_edge_is_still_needed() -> None:
    edges = _package_graph()
    stale = [edge for edge in ALLOWED_BACK_EDGES if edge not in edges]
    assert stale == [], f"no longer imported, take off ALLOWED_BACK_EDGES: {stale}"
    # And each still closes a cycle: otherwise it is an ordinary import.
    lone = [
        edge
        for edge in ALLOWED_BACK_EDGES
        if not _cycles(set(edges) - {e for e in ALLOWED_BACK_EDGES if e != edge})
    ]
    assert lone == [], f"closes no cycle, take off ALLOWED_BACK_EDGES: {lone}"


if __name__ == "__main__":
    # Lists every package-level cycle, allowed or not, with one import that makes each step.
    all_edges = _package_graph()
    for cycle in _cycles(set(all_edges)):
        print(_describe(cycle, all_edges))
