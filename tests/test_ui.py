"""The Dagster UI for real (issue 4): ``dg dev`` on 127.0.0.1, the asset graph in headless
Chromium (Debian's package, driven by Playwright), one materialisation through GraphQL, and a
screenshot. Installs nothing at run time; stops every process it started."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browser import launch
from lakes import small_lake

pytestmark = pytest.mark.slow

REPO = Path(__file__).parents[1]
STARTUP_SECONDS = 180


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.load(response)
    assert "errors" not in body, body
    return body["data"]


@pytest.fixture
def dagster_dev(tmp_path):
    """``dg dev`` on a small lake, listening on 127.0.0.1 only; stopped afterwards."""
    lake = small_lake(tmp_path / "lake")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "OPS_DATA_LAKE": str(lake)}
    log = (tmp_path / "dagster_dev.log").open("w")
    process = subprocess.Popen(
        # `dg dev`, as the README starts the UI: the project from pyproject.toml's [tool.dg].
        [str(Path(sys.executable).parent / "dg"), "dev", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                urllib.request.urlopen(f"{url}/server_info", timeout=2)
                break
            except OSError:
                assert process.poll() is None, (tmp_path / "dagster_dev.log").read_text()
                assert time.monotonic() < deadline, "dg dev did not start"
                time.sleep(1)
        yield url, lake, tmp_path
    finally:
        # dg dev starts the webserver, the daemon and code servers: stop the whole group.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


# The UI's "Join the Dagster community" dialog stays away once the browser holds its dismissal
# (ui-core's CommunityNux, key "communityNux" in localStorage): no page waits for it.
NO_COMMUNITY_DIALOG = "window.localStorage.setItem('communityNux', JSON.stringify('1'))"


def no_dialog_over(page) -> None:
    """Fail, rather than picture a dialog, if one still covers the page (a renamed key)."""
    assert page.get_by_role("dialog").filter(visible=True).count() == 0, "a dialog covers the page"


def test_asset_graph_checks_and_a_materialisation_in_the_ui(dagster_dev):
    from playwright.sync_api import sync_playwright

    url, lake, out = dagster_dev
    launched = graphql(
        url,
        """mutation Launch($params: ExecutionParams!) {
             launchRun(executionParams: $params) {
               __typename
               ... on LaunchRunSuccess { run { runId } }
               ... on PythonError { message }
             }
           }""",
        {
            "params": {
                "selector": {
                    "repositoryLocationName": "ops_pipeline",
                    "repositoryName": "__repository__",
                    "jobName": "__ASSET_JOB",
                    "assetSelection": [{"path": ["reference", "municipalities"]}],
                    "assetCheckSelection": [],
                },
                "mode": "default",
            }
        },
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]

    with sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        context.add_init_script(NO_COMMUNITY_DIALOG)
        page = context.new_page()
        page.goto(f"{url}/assets", wait_until="domcontentloaded")
        for mart in (
            "survey_response",
            "survey_potential",
            "municipal_savings",
            "savings_potential",
            "savings_by_measure",
            "idebank_overview",
            "proposals",
        ):
            page.get_by_text(f"marts / {mart}").first.wait_for(timeout=60_000)

        # The lineage of the published warehouse: landing → staged → marts → published.
        page.goto(
            f"{url}/assets/published/warehouse?view=lineage&lineageDepth=4",
            wait_until="domcontentloaded",
        )
        page.get_by_text("municipal_savings").first.wait_for(timeout=60_000)
        page.wait_for_timeout(2_000)  # let the graph lay out before the picture
        no_dialog_over(page)
        page.screenshot(path=str(out / "asset_graph.png"))

        page.goto(
            f"{url}/assets/marts/municipal_savings?view=checks", wait_until="domcontentloaded"
        )
        page.get_by_text("municipal_savings_suite").first.wait_for(timeout=60_000)
        page.screenshot(path=str(out / "checks.png"))

        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline:
            status = graphql(
                url,
                "query Run($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }",
                {"id": run_id},
            )["runOrError"]["status"]
            if status in ("SUCCESS", "FAILURE", "CANCELED"):
                break
            time.sleep(1)
        assert status == "SUCCESS"
        materialized = graphql(
            url,
            """query Asset($path: [String!]!) {
                 assetOrError(assetKey: {path: $path}) {
                   ... on Asset { assetMaterializations(limit: 1) { runId } }
                 }
               }""",
            {"path": ["reference", "municipalities"]},
        )["assetOrError"]["assetMaterializations"]
        assert materialized == [{"runId": run_id}]
        page.goto(f"{url}/assets/reference/municipalities", wait_until="domcontentloaded")
        page.get_by_text("municipality_code").first.wait_for(timeout=60_000)  # its column schema
        no_dialog_over(page)
        page.screenshot(path=str(out / "materialized.png"))
        browser.close()
    assert (out / "asset_graph.png").stat().st_size > 10_000
    shutil.copy(out / "asset_graph.png", lake / "ui_asset_graph.png")
