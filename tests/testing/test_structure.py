"""Structure rules of the local server: no import circles, no sprawling renderer/restriction functions.

DESIGN.md asks for one direction of imports (no function-level imports or ``TYPE_CHECKING`` blocks to
hide a circle) and small functions where the server renders responses and the client builds
restrictions. These tests read the source with :mod:`ast`, so they see type-only imports too.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

import exchangelib

PKG = Path(exchangelib.__file__).parent
TESTING = PKG / "testing"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, modules: Set[str]) -> Set[str]:
    """The modules of ``modules`` that ``path`` imports anywhere in its source (type-only imports too)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base = ".".join(base_parts[:len(base_parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            candidates = [target] + [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            candidates = [a.name for a in node.names]
        else:
            continue
        out.update(c for c in candidates if c in modules and c != name)
    return out


def _cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    found: List[List[str]] = []
    state: Dict[str, int] = {}
    stack: List[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                found.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    return found


def test_local_server_modules_import_in_one_direction() -> None:
    files = sorted(TESTING.rglob("*.py"))
    modules = {_module_name(p) for p in files}
    graph = {_module_name(p): _imports(p, modules) for p in files}
    # the graph really is built from the source: the server imports autodiscover, the context the store
    assert "exchangelib.testing.autodiscover" in graph["exchangelib.testing.server"]
    assert "exchangelib.testing.store" in graph["exchangelib.testing.context"]
    assert _cycles(graph) == []


def _complexity(fn: ast.AST) -> int:
    """McCabe's number: 1 + branches (if/loops/except/with/assert/conditional expr/comprehension/bool ops)."""
    n = 1
    for node in ast.walk(fn):
        if isinstance(node, (ast.If, ast.For, ast.While, ast.IfExp, ast.ExceptHandler, ast.Assert)):
            n += 1
        elif isinstance(node, ast.comprehension):
            n += 1 + len(node.ifs)
        elif isinstance(node, ast.BoolOp):
            n += len(node.values) - 1
    return n


def test_renderers_and_restriction_builders_stay_small() -> None:
    over = []
    for path in (TESTING / "ops" / "render.py", PKG / "restriction.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _complexity(node) > 25:
                over.append(f"{path.name}:{node.name} ({_complexity(node)})")
    assert over == []
