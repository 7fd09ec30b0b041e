"""The repository's shape: no import cycle in crossling/, the library never imports the
orchestration layers, and every repository path the docs name exists."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LIB = REPO / "crossling"


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(LIB.rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> list[str]:
    """The crossling modules an import of ``name`` runs: the module and its parent packages."""
    out, parts = [], name.split(".")
    for k in range(1, len(parts) + 1):
        prefix = ".".join(parts[:k])
        if prefix in modules:
            out.append(prefix)
    return out


def _imports(path: Path, name: str, modules: dict[str, Path], *, top_level: bool) -> set[str]:
    """Modules imported by a file: at module level (``if TYPE_CHECKING:`` blocks included: an
    import a type checker follows is part of the design), or anywhere when not ``top_level``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    nodes: list[ast.AST] = []
    if top_level:
        stack = list(tree.body)
        while stack:
            node = stack.pop()
            nodes.append(node)
            if isinstance(node, ast.If | ast.Try):  # conditional module-level imports
                stack.extend(node.body + node.orelse)
                stack.extend(h for t in getattr(node, "handlers", []) for h in t.body)
    else:
        nodes = list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            found.update(_resolve(t, modules) if t.startswith("crossling") else [t])
    # the packages that contain this module are initialised before it runs (a package's
    # __init__ importing its own submodules is not a cycle); itself neither
    return {f for f in found if f != name and not name.startswith(f + ".")}


def test_no_import_cycle_in_the_library():
    modules = _modules()
    graph = {
        m: {d for d in _imports(p, m, modules, top_level=True) if d in modules}
        for m, p in modules.items()
    }
    # a package's own __init__ is run before its submodules: an edge from a submodule to its
    # parent package is not a cycle unless the package imports the submodule back
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        path.append(m)
        for d in sorted(graph[m]):
            if state.get(d) == 1:
                cycles.append([*path[path.index(d) :], d])
            elif d not in state:
                visit(d)
        path.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_the_library_never_imports_orchestration():
    modules = _modules()
    bad = {
        m: sorted(
            d
            for d in _imports(p, m, modules, top_level=False)
            if d.split(".")[0] in ("prefect", "flows", "tasks", "deployments")
        )
        for m, p in modules.items()
    }
    assert not {m: d for m, d in bad.items() if d}


@pytest.mark.parametrize(
    "module",
    [
        "crossling.stages.base",
        "crossling.stages.near",
        "crossling.run.schedule",
        "crossling.pipeline",
    ],
)
def test_modules_import_first_in_a_fresh_interpreter(module):
    # the modules at the joints of the run and its steps, each imported before anything else
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    r = subprocess.run(
        [sys.executable, "-c", f"import {module}"], env=env, capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr


# A repository path in prose or code spans: a top-level folder, then a path.
_PATH = re.compile(
    r"(?<![\w./=-])((?:crossling|flows|tasks|tests|benchmarks|scripts|deployments|docs|\.ci)"
    r"/[\w./-]*\w)"
)


def test_every_repository_path_the_docs_name_exists():
    docs = sorted((REPO / "docs").rglob("*.md")) + [REPO / "README.md"]
    missing = []
    for doc in docs:
        for m in _PATH.finditer(doc.read_text(encoding="utf-8")):
            p = m.group(1).rstrip(".")
            # docs/<lang>/... inside a corpus version is a version's layout, not this repository
            if p.startswith("docs/") and not p.endswith(".md"):
                continue
            if not (REPO / p).exists():
                missing.append(f"{doc.relative_to(REPO)}: {p}")
    assert not missing, missing
