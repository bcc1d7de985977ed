"""Shared test fixtures: a Dagster instance per test session and pipeline runners."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
sys.path.insert(0, str(Path(__file__).parent))  # tests/lakes.py


@pytest.fixture(scope="session")
def dagster_home(tmp_path_factory) -> Path:
    """A real Dagster instance (the repository's dagster.yaml) in a temporary folder."""
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    return home


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


@pytest.fixture(scope="session")
def published_lake(tmp_path_factory, dagster_home):
    """The small lake (tests/lakes.py), refreshed once; tests work on copies of it."""
    import os

    from lakes import small_lake

    from ops_pipeline import cli

    lake = small_lake(tmp_path_factory.mktemp("published"))
    before = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    try:
        assert cli.main(["run", "--lake", str(lake)]) == 0
    finally:
        if before is None:
            os.environ.pop("DAGSTER_HOME")
        else:
            os.environ["DAGSTER_HOME"] = before
    return lake


@pytest.fixture
def lake(published_lake, tmp_path) -> Path:
    """A copy of the published small lake, its publication links kept as links (relative, so
    they point into the copy)."""
    copy = tmp_path / "lake"
    shutil.copytree(published_lake, copy, symlinks=True)
    return copy
