"""Apache Superset 6.1.0, a real BI tool, on the published warehouse end to end.

Superset runs from its own venv (.clients/superset, built by scripts/clients/superset) as a
person runs it: ``superset db upgrade``, ``fab create-admin``, ``init``, then ``superset run`` on
a free loopback port. Through its REST API the test registers ``<lake>/warehouse.duckdb``
read-only via duckdb-engine (DuckDB 1.4.1 reads the v1.0.0 storage), reads marts in SQL Lab and
compares them with what the pipeline's DuckDB reads, builds a dataset and a bar chart, and renders
the chart in headless Chromium (logged in through Superset's login form, every request off this
machine refused). Then it refreshes the lake while Superset is connected and checks that SQL Lab
sees the new publication.

Superset returns DuckDB LIST values (``marts.proposals.policy_areas``) as JSON text with every
non-ASCII letter escaped (``["Administration", "\\u00c6ldre"]``): its result set stringifies
nested values with ``json.dumps``' default ``ensure_ascii``. The config's ``FLASK_APP_MUTATOR``
(:data:`DUCKDB_LISTS_AS_TEXT`) makes the DuckDB engine spec hand them over as JSON text with the
letters kept, so SQL Lab, datasets and charts show ``["Administration", "Ældre"]``.

Superset itself opens each query's connection anew (NullPool for analytics databases), so a
refresh never waits for it and the next query reads the new publication.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import duckdb
import pytest
import requests
from browser import launch
from lakes import SMALL_POPULATION, write_folk1a

REPO = Path(__file__).parents[1]
VENV = REPO / ".clients" / "superset"
ADMIN = "admin"
CHART_METRIC = "Savings per inhabitant (DKK)"

pytestmark = pytest.mark.bi

# Superset's config hook (run once the app exists): DuckDB LIST/STRUCT/MAP values go to Superset
# as JSON text that keeps its letters, instead of Superset's ASCII-escaped stringification.
DUCKDB_LISTS_AS_TEXT = """
def FLASK_APP_MUTATOR(app):
    import json

    from superset.db_engine_specs.duckdb import DuckDBEngineSpec

    fetch_data = DuckDBEngineSpec.fetch_data.__func__

    def fetch_data_as_text(cls, cursor, limit=None):
        return [
            tuple(
                json.dumps(value, ensure_ascii=False, default=str)
                if isinstance(value, (list, dict))
                else value
                for value in row
            )
            for row in fetch_data(cls, cursor, limit)
        ]

    DuckDBEngineSpec.fetch_data = classmethod(fetch_data_as_text)
"""


def superset_environment(home: Path, config: Path, password: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "FLASK_APP", "FLASK_DEBUG"}
    }
    environment.update(
        PATH=f"{VENV / 'bin'}{os.pathsep}{environment.get('PATH', '')}",
        SUPERSET_CONFIG_PATH=str(config),
        SUPERSET_HOME=str(home),
        SUPERSET_ADMIN_PASSWORD=password,
    )
    return environment


@pytest.fixture(scope="session")
def superset_bootstrap(tmp_path_factory):
    """Superset's metadata database made ready in the background (``db upgrade``, an admin,
    ``init``: about a minute), so that it overlaps the pipeline's first refresh."""
    if not (VENV / "bin" / "superset").exists():
        message = f"{VENV} is missing: run scripts/clients/superset (or scripts/setup --dev)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    home = tmp_path_factory.mktemp("superset")
    config = home / "superset_config.py"
    metadata = f"sqlite:///{home / 'superset.db'}"
    config.write_text(
        f"SECRET_KEY = {secrets.token_urlsafe(42)!r}\n"
        f"SQLALCHEMY_DATABASE_URI = {metadata!r}\n"
        # CSRF stays on: the API calls send the token, the login form carries its own.
        "WTF_CSRF_ENABLED = True\n"
        "FEATURE_FLAGS = {}\n"
        "SQLLAB_TIMEOUT = 120\n"
        "LOG_LEVEL = 'WARNING'\n" + DUCKDB_LISTS_AS_TEXT,
        encoding="utf-8",
    )
    password = secrets.token_urlsafe(16)
    environment = superset_environment(home, config, password)
    log = (home / "bootstrap.log").open("w")
    steps = (
        "set -e; superset db upgrade; "
        f"superset fab create-admin --username {ADMIN} --firstname Ada --lastname Admin "
        '--email admin@example.invalid --password "$SUPERSET_ADMIN_PASSWORD"; '
        "superset init"
    )
    process = subprocess.Popen(
        ["bash", "-c", steps],
        cwd=home,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: stopped whole if left unfinished
    )
    yield home, environment, password, process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    log.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def superset(superset_bootstrap):
    """``superset run`` on a free loopback port once the bootstrap is done: its base URL, the
    admin password and its log. Stopped afterwards."""
    home, environment, password, bootstrap = superset_bootstrap
    assert bootstrap.wait(timeout=600) == 0, log_tail(home / "bootstrap.log")
    port = free_port()
    log_path = home / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            ["superset", "run", "-h", "127.0.0.1", "-p", str(port), "--with-threads"],
            cwd=home,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, log_tail(log_path)
            try:
                if requests.get(f"{base}/health", timeout=5).text == "OK":
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, log_tail(log_path)
            time.sleep(1)
        yield base, password, log_path
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


class Api:
    """Superset's REST API as the admin: a JWT from /api/v1/security/login and the CSRF token
    from /api/v1/security/csrf_token/ (with its session cookie) on every call."""

    def __init__(self, base: str, password: str):
        self.base = base
        self.http = requests.Session()
        login = self.http.post(
            f"{base}/api/v1/security/login",
            json={"username": ADMIN, "password": password, "provider": "db", "refresh": False},
            timeout=30,
        )
        assert login.status_code == 200, login.text
        self.http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        csrf = self.http.get(f"{base}/api/v1/security/csrf_token/", timeout=30)
        assert csrf.status_code == 200, csrf.text
        self.http.headers.update({"X-CSRFToken": csrf.json()["result"], "Referer": base})

    def post(self, path: str, body: dict, status: int = 200) -> dict:
        response = self.http.post(f"{self.base}{path}", json=body, timeout=180)
        assert response.status_code == status, f"{path}: {response.status_code} {response.text}"
        return response.json()

    def sql(self, database: int, query: str) -> tuple[list[str], list[dict]]:
        """A SQL Lab query, run synchronously: its column names and rows."""
        result = self.post(
            "/api/v1/sqllab/execute/",
            {"database_id": database, "sql": query, "runAsync": False, "queryLimit": 10_000},
        )
        assert result["status"] == "success", result
        return [c["name"] for c in result["columns"]], result["data"]


def read(warehouse: Path, query: str) -> tuple[list[str], list[dict]]:
    """What the pipeline's own DuckDB reads."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cursor = con.execute(query)
        names = [d[0] for d in cursor.description]
        return names, [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


SAVINGS = "SELECT * FROM marts.municipal_savings ORDER BY rank, municipality_code"
AREAS = "SELECT id, policy_areas FROM marts.proposals ORDER BY id"
RUNS = "SELECT DISTINCT run_id FROM audit.ingested_files"


def render_chart(base: str, password: str, chart: int, screenshot: Path) -> tuple[dict, list[str]]:
    """The chart's Explore page in headless Chromium, logged in through the login form; every
    request off this machine refused. Returns the bars found on the chart's canvas (count and
    heights, from its pixels) and the refused requests."""
    from playwright.sync_api import sync_playwright

    refused: list[str] = []
    errors: list[str] = []

    def local_only(route):
        if route.request.url.startswith(f"{base}/superset/log/"):
            # The UI's event log, answered here: posted as the login page unloads, its reply
            # (an anonymous session cookie) could land after the login's and log the browser out.
            route.fulfill(status=200, content_type="application/json", body="{}")
        elif route.request.url.startswith(base):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 860})
            page.route("**/*", local_only)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{base}/login/")
            page.fill("[data-test=username-input]", ADMIN)
            page.fill("[data-test=password-input]", password)
            page.click("[data-test=login-button]")
            page.wait_for_url(lambda url: "/login" not in url, timeout=60_000)
            page.goto(f"{base}/explore/?slice_id={chart}")
            canvas = page.locator("[data-test=chart-container] canvas").first
            canvas.wait_for(timeout=90_000)
            page.wait_for_timeout(1500)  # ECharts' entry animation
            assert page.locator("[data-test=chart-container] [role=alert]").count() == 0
            assert page.locator("[data-test=chart-container] .ant-alert-error").count() == 0
            page.screenshot(path=str(screenshot))
            # Bars: runs of canvas columns holding the series' colour (the commonest saturated
            # colour); a bar's height is its tallest column of that colour.
            bars = canvas.evaluate(
                """(canvas) => {
                  const {width, height} = canvas;
                  const px = canvas.getContext('2d').getImageData(0, 0, width, height).data;
                  const counts = new Map();
                  for (let i = 0; i < px.length; i += 4) {
                    const [r, g, b, a] = [px[i], px[i + 1], px[i + 2], px[i + 3]];
                    if (a > 200 && Math.max(r, g, b) - Math.min(r, g, b) > 80) {
                      const key = (r << 16) | (g << 8) | b;
                      counts.set(key, (counts.get(key) || 0) + 1);
                    }
                  }
                  if (!counts.size) return {count: 0, heights: []};
                  const colour = [...counts].sort((x, y) => y[1] - x[1])[0][0];
                  const column = (x) => {
                    let n = 0;
                    for (let y = 0; y < height; y++) {
                      const i = (y * width + x) * 4;
                      if (((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]) === colour) n++;
                    }
                    return n;
                  };
                  const heights = [];
                  let run = 0;
                  for (let x = 0; x <= width; x++) {
                    const n = x < width ? column(x) : 0;
                    if (n > 2) run = Math.max(run, n);
                    else if (run) { heights.push(run); run = 0; }
                  }
                  return {count: heights.length, heights};
                }"""
            )
        finally:
            browser.close()
    assert not errors, errors
    return bars, refused


def test_superset_reads_the_published_warehouse(superset_bootstrap, lake, run, superset, tmp_path):
    base, password, server_log = superset
    api = Api(base, password)
    warehouse = lake / "warehouse.duckdb"

    # The warehouse, read-only through duckdb-engine; Superset's connection test first.
    uri = f"duckdb:///{warehouse}"
    extra = json.dumps({"engine_params": {"connect_args": {"read_only": True}}})
    api.post("/api/v1/database/test_connection/", {"sqlalchemy_uri": uri, "extra": extra})
    database = api.post(
        "/api/v1/database/",
        {
            "database_name": "ops-pipeline warehouse",
            "sqlalchemy_uri": uri,
            "extra": extra,
            "expose_in_sqllab": True,
            "allow_dml": False,
        },
        status=201,
    )["id"]

    # SQL Lab reads the marts as the pipeline's DuckDB does.
    before = read(warehouse, SAVINGS)
    assert len(before[1]) == 98
    assert api.sql(database, SAVINGS) == before
    names, areas = api.sql(database, AREAS)
    assert names == ["id", "policy_areas"]
    expected = {
        row["id"]: json.dumps(row["policy_areas"], ensure_ascii=False)
        for row in read(warehouse, AREAS)[1]
    }
    assert {row["id"]: row["policy_areas"] for row in areas} == expected
    assert '["Administration", "Ældre"]' in expected.values()
    # Read-only twice over: DuckDB opens the file read-only, and Superset refuses DML.
    assert api.sql(database, "SELECT current_setting('access_mode') AS mode")[1] == [
        {"mode": "read_only"}
    ]
    dml = api.http.post(
        f"{base}/api/v1/sqllab/execute/",
        json={
            "database_id": database,
            "sql": "CREATE TABLE marts.x AS SELECT 1",
            "runAsync": False,
        },
        timeout=60,
    )
    assert dml.status_code >= 400, dml.text

    # A dataset and a bar chart of savings per inhabitant by municipality (those with savings).
    dataset = api.post(
        "/api/v1/dataset/",
        {"database": database, "schema": "marts", "table_name": "municipal_savings"},
        status=201,
    )["id"]
    params = {
        "datasource": f"{dataset}__table",
        "viz_type": "echarts_timeseries_bar",
        "x_axis": "municipality",
        "metrics": [
            {
                "expressionType": "SIMPLE",
                "column": {"column_name": "savings_per_inhabitant"},
                "aggregate": "MAX",
                "label": CHART_METRIC,
            }
        ],
        "groupby": [],
        "adhoc_filters": [
            {
                "expressionType": "SIMPLE",
                "subject": "savings_per_inhabitant",
                "operator": ">",
                "comparator": 0,
                "clause": "WHERE",
            }
        ],
        "row_limit": 100,
        "orientation": "vertical",
        "x_axis_sort": CHART_METRIC,
        "x_axis_sort_asc": False,
        "show_legend": False,
        "x_axis_title": "Municipality",
        "x_axis_title_margin": 30,
        "y_axis_title": "DKK per inhabitant",
        "y_axis_title_margin": 50,
        "y_axis_title_position": "Left",
    }
    chart = api.post(
        "/api/v1/chart/",
        {
            "slice_name": "Idébank savings per inhabitant, 2021",
            "viz_type": "echarts_timeseries_bar",
            "datasource_id": dataset,
            "datasource_type": "table",
            "params": json.dumps(params),
        },
        status=201,
    )["id"]
    screenshot = tmp_path / "superset_chart.png"
    bars, refused_requests = render_chart(base, password, chart, screenshot)
    values = sorted(
        (r["savings_per_inhabitant"] for r in before[1] if r["savings_per_inhabitant"] > 0),
        reverse=True,
    )
    assert bars["count"] == len(values) == 4, bars
    # Each bar as tall as its value (to a pixel or two of the canvas).
    tallest = max(bars["heights"])
    for height, value in zip(bars["heights"], values, strict=True):
        assert abs(height / tallest - value / values[0]) < 0.02, (bars, values)
    # Nothing but Superset's own server was asked for anything, except its telemetry pixel
    # (Scarf, rendered unconditionally by the 6.1.0 frontend), which was refused.
    assert all("scarf.sh/" in url for url in refused_requests), refused_requests
    if folder := os.environ.get("OPS_SCREENSHOTS"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(folder) / "superset_chart.png")

    # A refresh while Superset is connected (it has just queried): new data, a new publication.
    publication = (lake / "current").resolve().name
    (old_run,) = {r["run_id"] for r in api.sql(database, RUNS)[1]}
    write_folk1a(
        lake / "landing" / "population" / "folk1a.csv",
        {"2021K1": {**SMALL_POPULATION["2021K1"], 250: 40_000}},
    )
    code, _, err = run(lake)
    assert code == 0, err
    refreshed = (lake / "current").resolve()
    assert refreshed.name != publication
    new_run = json.loads((refreshed / "publication.json").read_text())["run_id"]
    assert new_run != old_run
    # The next SQL Lab query reads the new publication: its audit run and its changed marts.
    assert {r["run_id"] for r in api.sql(database, RUNS)[1]} == {new_run}
    after = read(warehouse, SAVINGS)
    assert api.sql(database, SAVINGS) == after != before
    frederikssund = {r["municipality"]: r for r in after[1]}["Frederikssund"]
    assert frederikssund["population"] == 40_000
    assert frederikssund["savings_per_inhabitant"] == 7.5
    # No request failed on Superset's side (the refused DML above is logged as a warning).
    errors = [
        line for line in server_log.read_text(errors="replace").splitlines() if ":ERROR:" in line
    ]
    assert not errors, errors
