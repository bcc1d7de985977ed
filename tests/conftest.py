"""Shared test fixtures: a Dagster instance per test session and pipeline runners."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
sys.path.insert(0, str(Path(__file__).parent))  # tests/lakes.py

from sessions import built_once, new_dagster_home  # noqa: E402 (from the path above)

# Written into the checkout by the tools themselves, not by the tests.
_TOOL_CACHES = ("__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", ".egg-info")


def _checkout_files() -> set[str]:
    """Every file of the checkout git sees, ignored ones included (a run's dagster_home or
    data_lake files are ignored, and still not the tests' to write), but for .venv, the built
    clients under .clients and tool caches."""
    listed = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return {
        entry
        for entry in listed.split("\0")
        if entry
        and not entry[3:].startswith((".venv/", ".clients/"))
        and not any(cache in entry for cache in _TOOL_CACHES)
    }


@pytest.fixture(scope="session", autouse=True)
def checkout_unchanged():
    """Tests never write into the checkout: screenshots, lakes and instances go to temporary
    folders (scripts/screenshots refreshes docs/ on purpose)."""
    if not (REPO / ".git").exists() or os.environ.get("OPS_SCREENSHOTS"):
        yield
        return
    before = _checkout_files()
    yield
    written = sorted(_checkout_files() - before)
    assert not written, f"tests wrote into the checkout: {written}"


@pytest.fixture(scope="session")
def dagster_home(tmp_path_factory) -> Path:
    """A real Dagster instance (the repository's dagster.yaml) in a temporary folder."""
    return new_dagster_home(tmp_path_factory.mktemp("dagster_home"))


@pytest.fixture
def cli(dagster_home):
    """Run ``ops-pipeline`` as a user does, in its own process."""
    from publications import run_cli

    def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        return run_cli(dagster_home, *args, env=env)

    return run


@pytest.fixture
def run(dagster_home, monkeypatch, capsys):
    """``ops-pipeline <command>`` in this process (as the console script calls it): exit code,
    stdout, stderr. ``run(lake)`` refreshes; ``run(lake, "--year", "2021")``; ``run(lake,
    command="check")``."""
    from ops_pipeline import cli

    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))

    def run_cli(lake: Path, *extra: str, command: str = "run") -> tuple[int, str, str]:
        code = cli.main([command, "--lake", str(lake), *extra])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run_cli


@pytest.fixture
def stage():
    """``stage(lake, message)``: the staging steps of the source a landing problem's message
    names (``landing/<source>/...``), with their checks, at the asset level (tests/stages.py),
    on an instance in memory; the run's result."""
    import dagster as dg
    from stages import stage as stage_lake

    with dg.DagsterInstance.ephemeral() as instance:
        yield lambda lake, message: stage_lake(lake, instance, message.split("/")[1])


@pytest.fixture(scope="session")
def published_lake(tmp_path_factory) -> Path:
    """The small lake (tests/lakes.py), refreshed once (on an instance of its own: every worker
    reads this one); tests work on copies of it."""
    from lakes import small_lake
    from publications import run_in_process

    def build(folder: Path) -> None:
        lake = small_lake(folder / "lake")
        home = new_dagster_home(folder / "dagster_home")
        assert run_in_process(home, "run", "--lake", str(lake)) == 0

    return built_once(tmp_path_factory, "published", build) / "lake"


@pytest.fixture(scope="session")
def sample_lake(tmp_path_factory) -> tuple[Path, Path, str]:
    """The README's two commands, ``ops-pipeline sample`` and ``ops-pipeline run``, once:
    (the lake, its Dagster instance, what the run printed)."""
    import contextlib
    import io

    from publications import run_in_process

    def build(folder: Path) -> None:
        lake, home = folder / "lake", new_dagster_home(folder / "dagster_home")
        assert run_in_process(home, "sample", "--lake", str(lake)) == 0
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            assert run_in_process(home, "run", "--lake", str(lake)) == 0
        (folder / "run.out").write_text(printed.getvalue(), encoding="utf-8")

    folder = built_once(tmp_path_factory, "sample", build)
    return folder / "lake", folder / "dagster_home", (folder / "run.out").read_text("utf-8")


@pytest.fixture
def lake(published_lake, tmp_path) -> Path:
    """A copy of the published small lake, its publication links kept as links (relative, so
    they point into the copy)."""
    copy = tmp_path / "lake"
    shutil.copytree(published_lake, copy, symlinks=True)
    return copy
