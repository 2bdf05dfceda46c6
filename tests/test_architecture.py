"""The package's shape: imports point one way, local imports say why, no monolith.

Read from the source with :mod:`ast` (nothing is imported): the graph of
module-level imports between constpot's modules has no cycle; a constpot
import inside a function carries a comment on its line or the line before
(a heavy optional dependency, say); a module over 600 lines says in its
docstring why it is one module.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "constpot"
MAX_LINES = 600


def _modules():
    """{dotted name: (path, package parts)} of every module of constpot."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
            package = parts
        else:
            package = parts[:-1]
        out[".".join(parts)] = (path, package)
    return out


def _target(node: ast.ImportFrom, package: list[str]) -> str:
    if not node.level:
        return node.module or ""
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _first_party(node, package) -> list[str]:
    """The constpot modules (or names in them) an import statement names."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "constpot"]
    if isinstance(node, ast.ImportFrom):
        target = _target(node, package)
        if target.split(".")[0] != "constpot":
            return []
        names = [f"{target}.{a.name}" for a in node.names]
        # `from . import x` imports x, not the package being initialised
        return names if not node.module and node.level else [target, *names]
    return []


def _import_graph():
    modules = _modules()
    graph = {}
    for name, (path, package) in modules.items():
        deps = set()
        for node in ast.parse(path.read_text()).body:
            body = node.body if isinstance(node, ast.If) else [node]
            for stmt in body:
                deps.update(_first_party(stmt, package))
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def _cycles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_cycle_finder_finds_a_cycle():
    """Control: a two-module loop is found, a chain is not."""
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    graph = _import_graph()
    assert len(graph) > 100  # every module was read
    assert _cycles(graph) == []


def test_local_first_party_imports_say_why():
    unexplained = []
    for name, (path, package) in _modules().items():
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if not _first_party(node, package):
                    continue
                here, before = lines[node.lineno - 1], lines[node.lineno - 2]
                if "#" not in here and not before.strip().startswith("#"):
                    unexplained.append(f"{name}:{node.lineno}")
    assert unexplained == []


def test_long_modules_say_why():
    silent = []
    for name, (path, _) in _modules().items():
        text = path.read_text()
        n_lines = len(text.splitlines())
        if n_lines > MAX_LINES and "lines" not in (
            ast.get_docstring(ast.parse(text)) or ""
        ):
            silent.append(f"{name} ({n_lines} lines)")
    assert silent == []
