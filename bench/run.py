"""Measure the blog's speed next to two anchors, so it is known before anything is optimised.

Three uvicorn servers run side by side, each on its own free local port, each with the same
number of workers (`--workers`, 1 by default):

- the ceiling, `anchors/bare.py`: a raw ASGI app answering every request with the bytes of the
  blog's own home page; nothing the blog does can be faster;
- the hand-written page, `anchors/handwritten.py`: FastAPI + Jinja2 + stdlib sqlite3 building a
  home page from the same database; what reasonable code without the blog's layers costs (and,
  at `/search`, the blog's search query written by hand, for what ranking itself costs);
- the blog, `blog.main:app`, on a database seeded by its own `blog seed`: the SQLite file the
  anchors read, or a PostgreSQL database (`--database-url`) seeded the same way.

A load generator (Debian's `wrk`, or a small Python one where wrk cannot be had) drives each
page in turn, round after round, so a slow spell on a busy machine hits every target alike; the
median of the rounds is reported with its ratio to the anchors and the goals from the issue.
`--scale` instead compares one-connection latency on a small and a very large database.
Run with the project's Python: `.venv/bin/python bench/run.py --help`; see bench/README.md.
"""

# This script's job is to run tools (uvicorn, wrk, apt-get, git) with arguments it builds
# itself, and its tables use the multiplication sign on purpose.
# ruff: noqa: S603, S607, RUF001

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from html import unescape
from http.client import HTTPConnection, HTTPMessage
from importlib import metadata
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import URL, create_engine, make_url, text

from blog.seed import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
ANCHORS = ROOT / "bench" / "anchors"
HOST = "127.0.0.1"
SEED = 2026  # `blog seed`'s default: the same content every time
# "garden" is one of blog.seed's body words and "notes" one of its titles and tags.
SEARCH_PATH = "/search?q=garden+notes"
SMOKE = {"users": 5, "blogs": 200, "duration": 1, "rounds": 1, "scale_blogs": 2_000}
SCALE_SMALL = (10, 1_000)  # users, blogs
SCALE_SAMPLES_AT_LEAST = 3
IDLE_SECONDS = 4  # a keep-alive connection idle longer is reopened: uvicorn closes it at 5
SETTLE_STEP_SECONDS = 0.2  # how often `settle` looks whether a server is idle yet
SETTLE_LIMIT_SECONDS = 10
# The process group of each server started (its uvicorn and workers), by port, for `settle`.
SERVER_GROUPS: dict[int, int] = {}
PACKAGES = ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "jinja2", "sqlalchemy")

# The goals: (page, anchor, fraction of the anchor's req/s). A FAIL is reported, never
# an error: the figures belong to the machine they were measured on.
GOALS = (
    ("home", "ceiling", 0.5),
    ("blog", "ceiling", 0.5),
    # Pages the cache cannot serve: a logged-in reader's (a search with a new query costs what
    # a logged-in one does: neither is cached).
    ("home-logged-in", "handwritten", 0.5),
    ("blog-logged-in", "handwritten", 0.5),
    ("author-logged-in", "handwritten", 0.5),
    ("search-logged-in", "handwritten", 0.5),
    # Ranking full text costs several times a home page's whole work, in SQLite itself: search is
    # also held to the hand-written page doing that same query.
    ("search-logged-in", "handwritten-search", 0.5),
)
ANCHOR_NAMES = {
    "ceiling": "the ceiling",
    "handwritten": "the hand-written page",
    "handwritten-search": "the hand-written search",
}
# And those four pages' p99 latency, in ms, at the default 32 connections.
P99_GOALS = (
    ("home-logged-in", 50),
    ("blog-logged-in", 50),
    ("author-logged-in", 50),
    ("search-logged-in", 50),
)


@dataclass
class Page:
    """One thing to load: which server, which path, with which session cookie."""

    key: str
    label: str
    server: str
    path: str
    cookie: str | None = None


@dataclass
class Measurement:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    bad: int  # answers >= 400, socket errors and timeouts: any makes the figures suspect


def main() -> int:
    arguments = _parser().parse_args()
    if arguments.smoke:
        for name, value in SMOKE.items():
            setattr(arguments, name, value)
    if arguments.scale and arguments.database_url:
        sys.exit("--scale compares two SQLite files; --database-url is for the default run.")
    arguments.data_dir.mkdir(parents=True, exist_ok=True)
    # A `kill` runs the same clean-up as Ctrl-C: no server outlives the script.
    signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))
    return scale(arguments) if arguments.scale else benchmark(arguments)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Benchmark the blog against a bare ASGI ceiling and a hand-written page."
    )
    parser.add_argument("--users", type=int, default=100, help="seeded authors (%(default)s)")
    parser.add_argument("--blogs", type=int, default=10_000, help="seeded blogs (%(default)s)")
    parser.add_argument("--duration", type=int, default=8, help="seconds per run (%(default)s)")
    parser.add_argument("--connections", type=int, default=32, help="open (%(default)s)")
    # One thread drives even the ceiling as fast as two do here, and a second one competes
    # with the server for its core: on 2 cores, wrk -t2 added 60-150 ms to every target's
    # p99 (the hand-written page's went from 42 to 103 ms) with no change in req/s.
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (%(default)s)")
    parser.add_argument(
        "--pin",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="with one worker, run the servers on one CPU and the load on the others (%(default)s)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved (%(default)s)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny data, 1-second runs, one round, no wrk install: checks that it all works",
    )
    parser.add_argument(
        "--scale",
        action="store_true",
        help="one-connection p50 of each page at 1,000 blogs and at --scale-blogs",
    )
    parser.add_argument(
        "--scale-blogs",
        type=int,
        default=1_000_000,
        help="the large database of --scale (%(default)s blogs, one author per 1,000)",
    )
    parser.add_argument(
        "--load",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk (installed when missing, as root), python, or auto (%(default)s)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=ROOT / ".bench",
        help="seeded databases and server logs (%(default)s)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn workers for each of the ceiling, the hand-written page and the blog "
        "(%(default)s)",
    )
    parser.add_argument(
        "--database-url",
        help="serve the blog from this PostgreSQL server (postgresql+psycopg://…) instead of "
        "the SQLite file; its data goes in a database of its own there, seeded once and "
        "reused; the anchors still read the SQLite file",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    return parser


# --- Data -----------------------------------------------------------------------------------


def seeded_database(data_dir: Path, users: int, blogs: int) -> tuple[Path, float | None]:
    """A database filled by the blog's own `blog seed`, kept and reused while the parameters
    match (a million blogs take minutes); with the seconds seeding took, None when reused."""
    path = data_dir / f"blog-{users}users-{blogs}blogs-seed{SEED}.db"
    if path.exists():
        print(f"Reusing {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
        return path, None
    # Seeded under another name and renamed when done, so an interrupted seed is never reused.
    partial = path.with_name(path.name + ".partial")
    for leftover in path.parent.glob(partial.name + "*"):
        leftover.unlink()
    print(f"Seeding {users:,} users and {blogs:,} blogs into {path} ...", flush=True)
    started = time.perf_counter()
    seed = ["seed", "--users", str(users), "--blogs", str(blogs), "--seed", str(SEED)]
    subprocess.run(
        [sys.executable, "-m", "blog.cli", *seed],
        env={**os.environ, "DATABASE_URL": f"sqlite:///{partial}"},
        cwd=ROOT,
        check=True,
    )
    # Fold the write-ahead log into the file, so the one file is the whole database.
    with contextlib.closing(sqlite3.connect(partial)) as database:
        database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    partial.rename(path)
    for leftover in path.parent.glob(partial.name + "*"):  # the blog's migration lock file
        leftover.unlink()
    seconds = time.perf_counter() - started
    print(f"Seeded in {seconds:.0f} s")
    return path, seconds


def seeded_postgres(server_url: str, users: int, blogs: int) -> tuple[str, float | None]:
    """seeded_database's twin on a PostgreSQL server: a database of its own, named after the
    parameters, kept and reused; with the seconds seeding took, None when reused.

    Seeded under another name and renamed when done, so an interrupted seed is never reused.
    The database the URL names is only where the script connects to make the others."""
    name = f"blog_bench_{users}users_{blogs}blogs_seed{SEED}"
    partial = f"{name}_partial"
    server = make_url(server_url)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            found = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if found:
                print(f"Reusing the PostgreSQL database {name}")
                return _url_text(server.set(database=name)), None
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{partial}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{partial}"')
        print(f"Seeding {users:,} users and {blogs:,} blogs into PostgreSQL ({name}) ...")
        started = time.perf_counter()
        env = {**os.environ, "DATABASE_URL": _url_text(server.set(database=partial))}
        seed = ["seed", "--users", str(users), "--blogs", str(blogs), "--seed", str(SEED)]
        for command in (["db", "upgrade"], seed):
            subprocess.run([sys.executable, "-m", "blog.cli", *command], env=env, check=True)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'ALTER DATABASE "{partial}" RENAME TO "{name}"')
    finally:
        admin.dispose()
    # Fresh planner statistics, as autovacuum would gather a little later.
    seeded = create_engine(server.set(database=name), isolation_level="AUTOCOMMIT")
    try:
        with seeded.connect() as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    finally:
        seeded.dispose()
    seconds = time.perf_counter() - started
    print(f"Seeded in {seconds:.0f} s")
    return _url_text(server.set(database=name)), seconds


def _url_text(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def demo_email(database_url: str) -> str:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            statement = text('SELECT email FROM "user" ORDER BY id LIMIT 1')
            return connection.execute(statement).scalar_one()
    finally:
        engine.dispose()


def blog_environment(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        # As deployed: templates are not looked at for changes on every page.
        "ENVIRONMENT": "production",
        # Logging in is no sign-up, but nothing here should ever meet a limit.
        "REGISTRATIONS_PER_ADDRESS": "0",
    }


# --- Servers --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(
    name: str,
    app: str,
    env: dict[str, str],
    log_dir: Path,
    workers: int = 1,
    cpus: set[int] | None = None,
) -> Iterator[int]:
    """Run `app` under uvicorn as deployed (`workers` processes, uvloop, httptools) until the
    block ends, errors and Ctrl-C included; yield its port once it accepts connections. With
    `cpus`, its processes run on those CPUs only."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", app, "--host", HOST, "--port", str(port)]
    command += ["--workers", str(workers), "--loop", "uvloop", "--http", "httptools"]
    command += ["--no-access-log"]
    if not app.startswith("blog."):
        command += ["--app-dir", str(ANCHORS)]
    log = log_dir / f"{name}.log"
    with log.open("wb") as output:
        # Its own process group: Ctrl-C reaches this script, which then stops the whole group.
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
        )
    try:
        _wait_until_listening(name, port, process, log)
        SERVER_GROUPS[port] = process.pid  # its own session: the group is named after it
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_until_listening(name: str, port: int, process: subprocess.Popen, log: Path) -> None:
    # uvicorn binds its port only after the app's start-up (the blog's schema check) is done.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"The {name} server exited at start-up. {log}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            return
        time.sleep(0.1)
    sys.exit(f"The {name} server did not start within 60 s; see {log}")


# --- HTTP -----------------------------------------------------------------------------------


def fetch(
    port: int, path: str, cookie: str | None = None, form: dict[str, str] | None = None
) -> tuple[int, HTTPMessage, bytes]:
    """One request, no redirect followed: a 3xx is an answer to look at, not to chase."""
    headers = {"Cookie": cookie} if cookie else {}
    body = None
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = urlencode(form)
    connection = HTTPConnection(HOST, port, timeout=600)
    try:
        connection.request("POST" if form else "GET", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def _session_cookie(headers: HTTPMessage) -> str | None:
    for header in headers.get_all("Set-Cookie") or []:
        if header.startswith("blog_session="):
            return header.split(";", 1)[0]
    return None


def log_in(port: int, email: str) -> str:
    """Log in through the real form, CSRF token and all; the `Cookie` value a logged-in
    reader's page views carry."""
    _, headers, page = fetch(port, "/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.decode())
    cookie = _session_cookie(headers)
    if token is None or cookie is None:
        sys.exit("The login form has no CSRF token or set no session cookie.")
    form = {"csrf_token": unescape(token[1]), "email": email, "password": DEMO_PASSWORD}
    status, headers, _ = fetch(port, "/login", cookie, form={**form, "next": "/"})
    cookie = _session_cookie(headers)
    if status != 303 or cookie is None:
        sys.exit(f"Logging in as {email} answered {status}, not a redirect with a session.")
    # The first page after logging in shows, and so uses up, the welcome message; the cookie
    # after it is the one every later page view sends.
    _, headers, _ = fetch(port, "/", cookie)
    return _session_cookie(headers) or cookie


def blog_pages(port: int, cookie: str, *, scale: bool) -> list[Page]:
    """The blog's pages to load, addressed as the home page links to them today."""
    home = unescape(fetch(port, "/")[2].decode())

    def first_link(pattern: str, what: str) -> str:
        match = re.search(f'href="({pattern})"', home)
        if match is None:
            sys.exit(f"The home page links to no {what}.")
        return match[1]

    blog = first_link(r"/blogs/\d+/[^\"/]+", "blog")
    tag = first_link(r"/tags/[^\"/]+", "tag page")
    author = first_link(r"/users/\d+", "author")
    pages = [
        Page("home", "blog `/` anonymous", "blog", "/"),
        Page("home-logged-in", "blog `/` logged in", "blog", "/", cookie),
        Page("blog", f"a blog page `{blog.rsplit('/', 1)[0]}/…`", "blog", blog),
        Page("search", f"`{SEARCH_PATH}`", "blog", SEARCH_PATH),
        Page("tag", f"a tag page `{tag}`", "blog", tag),
        Page("author", f"an author page `{author}`", "blog", author),
        Page("feed", "`/feed.xml`", "blog", "/feed.xml"),
        Page("blog-logged-in", "a blog page, logged in", "blog", blog, cookie),
        Page("author-logged-in", "an author page, logged in", "blog", author, cookie),
        Page("search-logged-in", f"`{SEARCH_PATH}`, logged in", "blog", SEARCH_PATH, cookie),
    ]
    if scale:
        pages += [
            Page("users", "`/users`", "blog", "/users"),
            Page("tags", "`/tags`", "blog", "/tags"),
            Page("sitemap", "`/sitemap.xml`", "blog", "/sitemap.xml"),
        ]
    return pages


def check(pages: list[Page], ports: dict[str, int]) -> None:
    """Every page must answer 200: loading a redirect, a login page or an error page would
    measure the wrong thing, so anything else stops the run."""
    wrong = []
    for page in pages:
        status, _, body = fetch(ports[page.server], page.path, page.cookie)
        print(f"  {status}  {len(body) / 1024:6.1f} KB  {page.label}")
        if status != 200:
            wrong.append(f"{page.label} answered {status}")
    if wrong:
        sys.exit("Not benchmarking pages that do not answer 200: " + "; ".join(wrong))


# --- Load -----------------------------------------------------------------------------------


def load_generator(choice: str, *, may_install: bool) -> str:
    """wrk when it is here or can be installed (Debian's package, as root); else Python."""
    if choice == "python":
        return "python"
    if (
        shutil.which("wrk") is None
        and may_install
        and os.geteuid() == 0
        and shutil.which("apt-get")
    ):
        print("wrk is missing: installing Debian's wrk (apt-get install -y wrk) ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-qq", "wrk"]
        quiet = {"env": env, "stdout": subprocess.DEVNULL, "check": False}
        if subprocess.run(install, **quiet).returncode != 0:  # stale package lists?
            subprocess.run(["apt-get", "update", "-qq"], **quiet)
            subprocess.run(install, **quiet)
    if shutil.which("wrk"):
        return "wrk"
    if choice == "wrk":
        sys.exit("wrk is missing and could not be installed (apt-get install wrk, as root).")
    print(
        "Note: wrk is missing, so the Python load generator drives the servers. It needs a core "
        "of its own near a few thousand req/s: the ceiling is understated, compare with care."
    )
    return "python"


def measure(
    generator: str, port: int, page: Page, arguments: argparse.Namespace, duration: int
) -> Measurement:
    if generator == "wrk":
        return run_wrk(port, page, arguments.threads, arguments.connections, duration)
    return run_python_load(port, page, arguments.connections, duration)


def run_wrk(port: int, page: Page, threads: int, connections: int, duration: int) -> Measurement:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s"]
    command += ["--timeout", "30s", "--latency"]
    if page.cookie:
        command += ["-H", f"Cookie: {page.cookie}"]
    output = subprocess.run(
        [*command, f"http://{HOST}:{port}{page.path}"], capture_output=True, text=True, check=True
    ).stdout
    return parse_wrk(output)


_WRK_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def parse_wrk(output: str) -> Measurement:
    """Requests/sec, the 50% and 99% lines of `--latency`'s distribution, and the counts of
    answers >= 400 ("Non-2xx or 3xx responses") and socket errors, from wrk's report."""

    def latency_ms(percent: int) -> float:
        match = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE)
        if match is None:
            raise ValueError(f"no {percent}% latency line in wrk's output:\n{output}")
        return float(match[1]) * _WRK_UNITS_MS[match[2]]

    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rate is None:
        raise ValueError(f"no Requests/sec in wrk's output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    bad = (int(non_2xx[1]) if non_2xx else 0) + (sum(map(int, errors.groups())) if errors else 0)
    return Measurement(float(rate[1]), latency_ms(50), latency_ms(99), bad)


def run_python_load(port: int, page: Page, connections: int, duration: float) -> Measurement:
    """wrk's measurement in asyncio: `connections` keep-alive connections each sending the
    next request as soon as the last answer is in, for `duration` seconds."""
    request = f"GET {page.path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
    request += f"Cookie: {page.cookie}\r\n" if page.cookie else ""
    request_bytes = (request + "\r\n").encode()
    latencies: list[float] = []
    bad = 0

    async def one_connection(deadline: float) -> None:
        nonlocal bad
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            bad += 1
            return
        try:
            while (started := time.perf_counter()) < deadline:
                writer.write(request_bytes)
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.IGNORECASE)
                if length:
                    await reader.readexactly(int(length[1]))
                else:  # chunked
                    while size := int((await reader.readline()).split(b";")[0], 16):
                        await reader.readexactly(size + 2)
                    await reader.readexactly(2)
                latencies.append(time.perf_counter() - started)
                bad += int(head.split(b" ", 2)[1]) >= 400
        except (OSError, asyncio.IncompleteReadError, ValueError):
            bad += 1
        finally:
            writer.close()

    async def all_connections() -> float:
        started = time.perf_counter()
        deadline = started + duration
        await asyncio.gather(*(one_connection(deadline) for _ in range(connections)))
        return time.perf_counter() - started

    elapsed = asyncio.run(all_connections())
    if len(latencies) < 2:
        return Measurement(len(latencies) / elapsed, float("nan"), float("nan"), bad + 1)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Measurement(len(latencies) / elapsed, cuts[49] * 1000, cuts[98] * 1000, bad)


# --- The benchmark --------------------------------------------------------------------------


def pin_to_cpus(workers: int) -> set[int] | None:
    """With one worker, the servers' CPU: the first one, while this script and the load
    generator it starts move to the others, so that wrk's thread never takes the server's
    turn. On 2 cores that took 4-5 ms off the p99 of a logged-in page (46 against 50 ms), the
    same for every target. More workers, or a single CPU, share them all: None."""
    cpus = sorted(os.sched_getaffinity(0))
    if workers != 1 or len(cpus) < 2:
        return None
    os.sched_setaffinity(0, set(cpus[1:]))
    return {cpus[0]}


def benchmark(arguments: argparse.Namespace) -> int:
    generator = load_generator(arguments.load, may_install=not arguments.smoke)
    # The anchors read the SQLite file; the blog reads it too unless given PostgreSQL.
    database, seeding_seconds = seeded_database(
        arguments.data_dir, arguments.users, arguments.blogs
    )
    blog_database_url = f"sqlite:///{database}"
    if arguments.database_url:
        blog_database_url, seeding_seconds = seeded_postgres(
            arguments.database_url, arguments.users, arguments.blogs
        )
    started_at = datetime.now(UTC)
    load_at_start = Path("/proc/loadavg").read_text().split()[:3]
    workers = arguments.workers
    server_cpus = pin_to_cpus(workers) if arguments.pin else None
    with contextlib.ExitStack() as servers:
        blog_port = servers.enter_context(
            serving(
                "blog",
                "blog.main:app",
                blog_environment(blog_database_url),
                arguments.data_dir,
                workers,
                server_cpus,
            )
        )
        cookie = log_in(blog_port, demo_email(blog_database_url))
        home_url = f"http://{HOST}:{blog_port}/"
        anchor_env = {**os.environ, "BENCH_PAGE_URL": home_url, "BENCH_DATABASE": str(database)}
        ports = {
            "blog": blog_port,
            "bare": servers.enter_context(
                serving("bare", "bare:app", anchor_env, arguments.data_dir, workers, server_cpus)
            ),
            "handwritten": servers.enter_context(
                serving(
                    "handwritten",
                    "handwritten:app",
                    anchor_env,
                    arguments.data_dir,
                    workers,
                    server_cpus,
                )
            ),
        }
        pages = [
            Page("ceiling", "ceiling: bare ASGI app, the home page's bytes", "bare", "/"),
            Page(
                "handwritten", "hand-written page: FastAPI + Jinja2 + sqlite3", "handwritten", "/"
            ),
            Page(
                "handwritten-search",
                f"hand-written search `{SEARCH_PATH}`: the same FTS5 query",
                "handwritten",
                SEARCH_PATH,
            ),
            *blog_pages(blog_port, cookie, scale=False),
        ]
        print("Each page answers:")
        check(pages, ports)
        if not arguments.smoke:
            print("Warming up (1 s each) ...", flush=True)
            for page in pages:
                measure(generator, ports[page.server], page, arguments, duration=1)
                settle(ports[page.server])
        runs: dict[str, list[Measurement]] = {page.key: [] for page in pages}
        for round_number in range(1, arguments.rounds + 1):
            for page in pages:
                result = measure(generator, ports[page.server], page, arguments, arguments.duration)
                runs[page.key].append(result)
                settle(ports[page.server])
                print(
                    f"  round {round_number}/{arguments.rounds}  {page.label:<50} "
                    f"{result.requests_per_second:9,.0f} req/s  p50 {result.p50_ms:8.1f} ms  "
                    f"p99 {result.p99_ms:8.1f} ms" + (f"  {result.bad} BAD" if result.bad else ""),
                    flush=True,
                )

    results = {key: _median(measurements) for key, measurements in runs.items()}
    print()
    print_table(pages, results)
    print()
    goals = print_goals(pages, results)
    print()
    machine = describe_machine(generator, started_at, load_at_start)
    load = (
        f"wrk -t{arguments.threads} -c{arguments.connections} -d{arguments.duration}s"
        if generator == "wrk"
        else f"Python load generator, {arguments.connections} connections, {arguments.duration} s"
    )
    if server_cpus:
        load += f" (servers on CPU {min(server_cpus)}, the load on the others)"
    setup = (
        f"{_workers(workers)} (uvloop, httptools) per target; {load}; "
        f"{arguments.users:,} users / {arguments.blogs:,} blogs; "
        f"the blog on {_database_name(blog_database_url)}; "
        f"median of {arguments.rounds} interleaved round(s)"
    )
    print(machine)
    print(setup)

    flagged = [page.label for page in pages if results[page.key].bad]
    if arguments.json:
        report = {
            "machine": machine,
            "setup": setup,
            "seeding_seconds": seeding_seconds,
            "pages": {page.key: {"label": page.label, "path": page.path} for page in pages},
            "results": {key: asdict(result) for key, result in results.items()},
            "rounds": {key: [asdict(run) for run in runs[key]] for key in runs},
            "goals": goals,
        }
        arguments.json.write_text(json.dumps(report, indent=2) + "\n")
    if flagged:
        print(f"\nFLAGGED: answers >= 400 or socket errors under load: {'; '.join(flagged)}")
        return 1
    return 0


def settle(port: int) -> None:
    """Wait until the server on `port` has finished what the load generator left in flight.

    When wrk stops, the requests it sent last are still being answered: for a slow page (the
    logged-in home page, a few hundred milliseconds each) that is a second of work or more,
    which would land on the next page's run and cut its figures. So the next run starts once
    the server's processes use less than a tenth of a core (or after SETTLE_LIMIT_SECONDS).
    """
    deadline = time.monotonic() + SETTLE_LIMIT_SECONDS
    used = _cpu_seconds(SERVER_GROUPS[port])
    while time.monotonic() < deadline:
        time.sleep(SETTLE_STEP_SECONDS)
        used, before = _cpu_seconds(SERVER_GROUPS[port]), used
        if used - before < SETTLE_STEP_SECONDS / 10:
            return


def _cpu_seconds(process_group: int) -> float:
    """CPU time used so far by the processes of a group (a server and its workers)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            # After the command's name: state, parent, group, ..., user time, system time.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == process_group:
                ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _workers(count: int) -> str:
    return "1 uvicorn worker" if count == 1 else f"{count} uvicorn workers"


def _database_name(database_url: str) -> str:
    """What the blog reads: SQLite, or PostgreSQL with the server's version."""
    if database_url.startswith("sqlite"):
        return "SQLite"
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            version = connection.execute(text("SHOW server_version")).scalar_one()
    finally:
        engine.dispose()
    return f"PostgreSQL {version.split()[0]}"


def _median(measurements: list[Measurement]) -> Measurement:
    return Measurement(
        statistics.median(m.requests_per_second for m in measurements),
        statistics.median(m.p50_ms for m in measurements),
        statistics.median(m.p99_ms for m in measurements),
        sum(m.bad for m in measurements),
    )


def print_table(pages: list[Page], results: dict[str, Measurement]) -> None:
    ceiling = results["ceiling"].requests_per_second
    handwritten = results["handwritten"].requests_per_second
    print("| what | req/s | p50 ms | p99 ms | × ceiling | × hand-written |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for page in pages:
        result = results[page.key]
        what = page.label + (f" ⚠ {result.bad} bad answers/errors" if result.bad else "")
        print(
            f"| {what} | {result.requests_per_second:,.0f} | {result.p50_ms:,.1f} | "
            f"{result.p99_ms:,.1f} | {result.requests_per_second / ceiling:.3f} | "
            f"{result.requests_per_second / handwritten:.2f} |"
        )


def print_goals(pages: list[Page], results: dict[str, Measurement]) -> list[dict]:
    """PASS/FAIL against the issue's goals; a FAIL is information, not an error."""
    labels = {page.key: page.label for page in pages}
    print("Goals (req/s as a share of an anchor's, and p99; a FAIL does not fail the run):")
    goals = []
    for key, anchor, target in GOALS:
        ratio = results[key].requests_per_second / results[anchor].requests_per_second
        verdict = "PASS" if ratio >= target else "FAIL"
        anchor_name = ANCHOR_NAMES[anchor]
        print(f"  {verdict}  {labels[key]}: {ratio:.3f}× {anchor_name} (target ≥ {target}×)")
        goals.append({"page": key, "anchor": anchor, "ratio": ratio, "target": target})
    for key, target_ms in P99_GOALS:
        p99_ms = results[key].p99_ms
        verdict = "PASS" if p99_ms < target_ms else "FAIL"
        print(f"  {verdict}  {labels[key]}: p99 {p99_ms:,.1f} ms (target < {target_ms} ms)")
        goals.append({"page": key, "p99_ms": p99_ms, "target_ms": target_ms})
    return goals


def describe_machine(generator: str, started_at: datetime, load_at_start: list[str]) -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in PACKAGES)
    if generator == "wrk":
        wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
        versions += ", " + " ".join((wrk.stdout + wrk.stderr).split()[:2])
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return (
        f"{started_at:%Y-%m-%d %H:%M} UTC; nproc {os.cpu_count()}, {cpu}; "
        f"load average at start {' '.join(load_at_start)}; Python {sys.version.split()[0]}, "
        f"{versions}; blog at {commit or 'unknown commit'}"
    )


# --- Scale ----------------------------------------------------------------------------------


def scale(arguments: argparse.Namespace) -> int:
    """How each page's one-connection latency grows from 1,000 blogs to --scale-blogs."""
    sizes = [SCALE_SMALL, (max(1, arguments.scale_blogs // 1000), arguments.scale_blogs)]
    databases = [seeded_database(arguments.data_dir, users, blogs)[0] for users, blogs in sizes]
    started_at = datetime.now(UTC)
    load_at_start = Path("/proc/loadavg").read_text().split()[:3]
    rows: dict[str, list[float]] = {}
    with contextlib.ExitStack() as servers:
        # Both sizes served at once, so each page can be asked of both in turn (below).
        sites: list[tuple[int, list[Page]]] = []
        for (_, blogs), database in zip(sizes, databases, strict=True):
            env = blog_environment(f"sqlite:///{database}")
            port = servers.enter_context(
                serving(f"blog-{blogs}", "blog.main:app", env, arguments.data_dir)
            )
            print(f"At {blogs:,} blogs, each page answers:")
            email = demo_email(f"sqlite:///{database}")
            pages = blog_pages(port, log_in(port, email), scale=True)
            check(pages, {"blog": port})
            sites.append((port, pages))
        print("One connection to each, one request after another, taking turns:")
        for small_page, large_page in zip(sites[0][1], sites[1][1], strict=True):
            turns = [(sites[0][0], small_page), (sites[1][0], large_page)]
            small, large = (
                statistics.median(samples) * 1000
                for samples in taking_turns(turns, arguments.duration)
            )
            label = re.sub(r" `/(blogs|tags|users)/[^`]+`", "", small_page.label)
            rows[label] = [small, large]
            print(f"  {label:<30} p50 {small:9.1f} ms  and {large:9.1f} ms", flush=True)

    print()
    print(f"| page | p50 ms at {sizes[0][1]:,} blogs | p50 ms at {sizes[1][1]:,} blogs | × |")
    print("| --- | ---: | ---: | ---: |")
    for label, (small, large) in rows.items():
        print(f"| {label} | {small:,.1f} | {large:,.1f} | {large / small:,.1f} |")
    print()
    machine = describe_machine("python", started_at, load_at_start)
    setup = (
        "One keep-alive connection to each size, one request after another, taking turns, "
        f"for {arguments.duration} s a page (at least {SCALE_SAMPLES_AT_LEAST} requests each); "
        f"{sizes[0][0]:,} / {sizes[1][0]:,} authors."
    )
    print(machine)
    print(setup)
    if arguments.json:
        results = {"machine": machine, "setup": setup, "sizes": sizes, "p50_ms": rows}
        arguments.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


def taking_turns(turns: list[tuple[int, Page]], duration: float) -> list[list[float]]:
    """Seconds per request for each (port, page), one request at a time on one connection each,
    the pages taking turns: latency without queueing, with a busy spell on the machine falling
    on every page alike. Runs for `duration` seconds and until each has a few requests."""
    connections = [HTTPConnection(HOST, port, timeout=600) for port, _ in turns]
    last_used = [time.perf_counter()] * len(turns)
    samples: list[list[float]] = [[] for _ in turns]
    deadline = time.perf_counter() + duration
    try:
        while time.perf_counter() < deadline or min(map(len, samples)) < SCALE_SAMPLES_AT_LEAST:
            for index, (connection, (_, page)) in enumerate(zip(connections, turns, strict=True)):
                if time.perf_counter() - last_used[index] > IDLE_SECONDS:
                    # uvicorn drops a connection idle for 5 s, as one is while a slow page on
                    # the other server takes its turn; the next request opens a new one.
                    connection.close()
                headers = {"Cookie": page.cookie} if page.cookie else {}
                started = time.perf_counter()
                connection.request("GET", page.path, headers=headers)
                response = connection.getresponse()
                response.read()
                last_used[index] = time.perf_counter()
                samples[index].append(last_used[index] - started)
                if response.status != 200:
                    sys.exit(f"{page.label} answered {response.status} under measurement.")
    finally:
        for connection in connections:
            connection.close()
    return samples


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("Interrupted; every server it started is stopped.")
