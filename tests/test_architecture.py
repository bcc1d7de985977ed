"""The layers of the package: no import cycle, plain packages never reach Dagster, and ``dg``
loads the definitions.

Imports are read from the source (``ast``), those inside functions included: a lazy import
hides a cycle from the interpreter, not from this test.
"""

from __future__ import annotations

import ast
import os
import subprocess
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "ops_pipeline"
# Plain modules and packages: usable without Dagster (tests, scripts, other tools).
PLAIN = (
    "ops_pipeline.audit",
    "ops_pipeline.contracts",
    "ops_pipeline.exports",
    "ops_pipeline.history",
    "ops_pipeline.lake",
    "ops_pipeline.landing",
    "ops_pipeline.quality",
    "ops_pipeline.readers",
    "ops_pipeline.reference",
    "ops_pipeline.report",
    "ops_pipeline.sample",
    "ops_pipeline.schemas",
    "ops_pipeline.sql",
    "ops_pipeline.staging",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, name: str, modules: set[str] = frozenset()) -> set[str]:
    """Every module ``path`` imports anywhere in it: ops_pipeline's by module name (``from
    package import submodule`` is the submodule; a package's __init__ only when a name is
    taken from it), others by their top-level package."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    # Imports for type checkers only never run.
    typing_only = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for statement in node.body
        for child in ast.walk(statement)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in modules else base)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        edges = set()
        for imported in imports_of(path, name, set(modules)):
            if imported in modules:
                edges.add(imported)
            elif imported.startswith("ops_pipeline."):
                parent = imported.rpartition(".")[0]
                if parent in modules:
                    edges.add(parent)
            else:
                edges.add(imported.split(".")[0])
        graph[name] = edges - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def reaches(graph: dict[str, set[str]], start: str, target: str) -> list[str] | None:
    """A path of imports from ``start`` to ``target``, or None."""
    paths, seen = [[start]], {start}
    while paths:
        path = paths.pop(0)
        for nxt in sorted(graph.get(path[-1], ())):
            if nxt == target:
                return [*path, nxt]
            if nxt in graph and nxt not in seen:
                seen.add(nxt)
                paths.append([*path, nxt])
    return None


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_lazy_cycle(tmp_path):
    # The finder itself: a cycle through an import inside a function is one.
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ops_pipeline import lake\n"
        "def f():\n    from ops_pipeline.defs import resources\n"
    )
    found = imports_of(source, "ops_pipeline.m", {"ops_pipeline.defs.resources"})
    assert "ops_pipeline.defs.resources" in found and "ops_pipeline.lake" not in found


@pytest.mark.parametrize("plain", PLAIN)
def test_plain_modules_never_reach_dagster(plain):
    graph = import_graph()
    members = [name for name in graph if name == plain or name.startswith(f"{plain}.")]
    assert members
    for member in members:
        assert reaches(graph, member, "dagster") is None, reaches(graph, member, "dagster")


def test_dg_loads_the_definitions(tmp_path):
    env = {**os.environ, "OPS_DATA_LAKE": str(tmp_path / "lake"), "DAGSTER_HOME": str(tmp_path)}
    dg = Path(PACKAGE.parent / ".venv" / "bin" / "dg")
    done = subprocess.run(
        [str(dg), "check", "defs"],
        cwd=PACKAGE.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "All definitions loaded successfully." in done.stdout + done.stderr


def test_every_job_runs_in_one_process():
    """One executor, set once in the Definitions: the refresh job and runs launched from the
    UI's asset graph alike (a process per step would mean several DuckDB writers)."""
    from ops_pipeline.definitions import REFRESH_JOB, defs

    assert defs.resolve_job_def(REFRESH_JOB).executor_def.name == "in_process"
    assert defs.resolve_implicit_global_asset_job_def().executor_def.name == "in_process"


def test_every_staged_table_and_mart_has_its_sql_file(published_lake):
    """The data path is the folder structure: each table of ``staged`` and ``marts`` that a
    refresh builds comes from ``sql/<schema>/<table>.sql`` (and no file is left unused)."""
    import duckdb

    from ops_pipeline.lake import Lake
    from ops_pipeline.sql import SQL_DIR

    working = Lake(published_lake).working_db
    with duckdb.connect(str(working), read_only=True) as con:
        built = {
            f"{schema}/{table}"
            for schema, table in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() "
                "WHERE schema_name IN ('staged', 'marts')"
            ).fetchall()
        }
    files = {p.relative_to(SQL_DIR).with_suffix("").as_posix() for p in SQL_DIR.rglob("*.sql")}
    assert built and built == files
