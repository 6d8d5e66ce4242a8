"""Our modules import each other without a circle (issue 15): every `import` of bot/, metrics/, sheets/ and config/ —
at module level or inside a function — is an edge, and the graph has no cycle. A function-level import used to hide
`bot.query → bot.refresh → bot.analyses → bot.query`; now a circle fails here, whichever import hides it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "metrics", "sheets", "config")
# Deliberate lazy edges that close a circle, each keeping a heavy optional library off the common path.
LAZY_FOR_HEAVY = {
    ("bot.digest.ledger", "bot.state_pg"): "psycopg",
    ("bot.pulse_log", "bot.state_pg"): "psycopg",
    ("bot.scheduler", "bot.leader"): "psycopg",
}
# The query layer, the owned tabs and the analyses import each other only at module level.
PLAIN = ("bot.query", "bot.tabs", "bot.analyses")


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _ours(dotted: str) -> str | None:
    """The module of ours `dotted` names (`bot.render.format.number` → `bot.render.format`), else None."""
    while dotted and dotted not in MODULES:
        dotted = dotted.rpartition(".")[0]
    return dotted or None


def _imports(tree: ast.AST) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import in `tree` with whether it sits inside a function (`if TYPE_CHECKING:` imports never run)."""
    found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []

    def visit(node: ast.AST, inside: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and ast.unparse(child.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.append((child, inside))
            visit(child, inside or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    visit(tree, False)
    return found


def _targets(node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif node.level or not node.module:
        return set()
    else:
        names = [f"{node.module}.{a.name}" for a in node.names]
    return {t for t in map(_ours, names) if t}


def edges() -> dict[str, dict[str, bool]]:
    """module → {imported module of ours: True when only imported inside functions}."""
    graph: dict[str, dict[str, bool]] = {}
    for name, path in MODULES.items():
        out: dict[str, bool] = {}
        for node, inside in _imports(ast.parse(path.read_text(encoding="utf-8"))):
            for target in _targets(node) - {name}:
                out[target] = out.get(target, True) and inside
        graph[name] = out
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_circle_and_passes_a_chain():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_import_circle_between_our_modules():
    graph = {m: {t for t in out if (m, t) not in LAZY_FOR_HEAVY} for m, out in edges().items()}
    assert cycles(graph) == []


def test_lazy_edges_that_close_a_circle_stay_for_a_heavy_library():
    graph = edges()
    for (source, target), library in LAZY_FOR_HEAVY.items():
        assert graph[source].get(target) is True, f"{source} imports {target} only inside a function"
        tree = ast.parse(MODULES[target].read_text(encoding="utf-8"))
        top = {
            a.name for node, inside in _imports(tree) if not inside and isinstance(node, ast.Import) for a in node.names
        }
        assert library in top, f"{target} imports {library} at module level, the reason its import is lazy"


def test_query_tabs_and_analyses_import_each_other_at_module_level_only():
    graph = edges()
    hidden = [(a, b) for a in PLAIN for b, inside in graph[a].items() if b in PLAIN and inside]
    assert hidden == []
    assert all(m in MODULES for m in PLAIN)
