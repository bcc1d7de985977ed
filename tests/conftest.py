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
