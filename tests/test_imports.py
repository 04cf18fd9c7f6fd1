"""The package's shape: no import cycles and no module importing a layer above its own.

The import graph is read from the source (every ``import``/``from`` statement, including those inside
functions, since a lazy import upward is still an upward dependency), so the test needs no import side
effects.
"""

from __future__ import annotations

import ast
from pathlib import Path

import sorlib

ROOT = Path(sorlib.__file__).parent

#: Layer rank of each top-level module or sub-package of ``sorlib``; data flows from low to high and a
#: module may import only modules of its own rank or below.
LAYERS = {
    "errors": 0, "_io": 0, "_numba": 0,
    "data": 1, "synth": 2, "venues": 3, "fills": 4, "sim": 4, "allocation": 5, "ck": 5,
    "strategies": 6, "schedules": 6, "engine": 7, "risk": 8, "metrics": 9, "fillcheck": 9, "tca": 9, "tca_executions": 9,
    "tables": 9,
    "backtest": 10, "realism": 10,
    "search": 11, "flow": 11,
    "plots": 12, "interactive": 13, "ck_interactive": 13, "whatif": 13, "report": 14, "cli": 15,
    "__init__": 16,
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str) -> set[str]:
    """``sorlib`` modules imported by the module at ``path`` (absolute names)."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "sorlib")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "sorlib":
                continue
            for a in node.names:  # ``from .pkg import module`` imports the sub-module
                sub = f"{mod}.{a.name}"
                out.add(sub if (ROOT.parent / Path(*sub.split("."))).with_suffix(".py").exists()
                        or (ROOT.parent / Path(*sub.split(".")) / "__init__.py").exists() else mod)
    out.discard(name)
    return out


def _graph() -> dict[str, set[str]]:
    files = sorted(ROOT.rglob("*.py"))
    return {_module_name(p): _imports(p, _module_name(p)) for p in files}


def _layer(module: str) -> int:
    parts = module.split(".")
    key = parts[1] if len(parts) > 1 else "__init__"
    assert key in LAYERS, f"{module}: give its top-level name {key!r} a layer in LAYERS"
    return LAYERS[key]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan)."""
    index, low, on, stack, out, counter = {}, {}, set(), [], [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
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
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_planted_cycle():
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(g) == [["a", "b", "c"]]


def test_no_import_cycles():
    cycles = _cycles(_graph())
    assert not cycles, f"import cycles: {cycles}"


def test_no_upward_imports():
    bad = []
    for mod, deps in _graph().items():
        # a package's __init__ re-exports its own modules; that is the same layer
        for dep in deps:
            if dep.split(".")[:2] == mod.split(".")[:2]:
                continue
            if _layer(dep) > _layer(mod):
                bad.append(f"{mod} -> {dep}")
    assert not bad, "upward imports:\n" + "\n".join(sorted(bad))
