"""A mixed load on Socle as deployed: gunicorn with several workers on a prepared database,
and client threads that scan labels, read lists and dashboards, edit items and comment on
tickets, signed in as the demo users. It prints, per kind of request, how many were made,
how many failed and their 95th percentile, then each worker's memory.

Bounded and local: the server listens on 127.0.0.1 only, on a free port, and everything
stops after ``--duration`` seconds (at most 15 minutes). Run it through ``scripts/load``::

    scripts/load                       # SQLite in a temporary folder, 3 minutes
    scripts/load --duration 60
    scripts/load --database-url postgresql+psycopg://postgres@127.0.0.1:5432/socle_load
    scripts/load --redis-url redis://127.0.0.1:6379/9     # shared rate limits

A PostgreSQL database is prepared when it has no demo accounts yet (migrations, the demo
data, then items, labels and tickets); with the accounts, it is used as it is.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from flask_migrate import upgrade
from sqlalchemy import select

from inventory import create_app
from inventory.assets import catalogue, lifecycle
from inventory.assets.models import Asset, AssetStatus
from inventory.auth.models import User
from inventory.core import audit
from inventory.demo import DEMO_PASSWORD, load_demo
from inventory.extensions import db
from inventory.helpdesk import public
from inventory.helpdesk.models import ProblemType, Ticket
from inventory.labels import tokens
from inventory.orgs.models import Classroom, Collectivite, Ecole
from inventory.paths import ROOT

SECRET = "load-test-secret-key-not-for-production"
ITEMS_PER_CLIENT = 6
MAX_DURATION = 15 * 60
# The share of each kind of request in the mix.
MIX = {"scan": 35, "list": 25, "dashboard": 15, "edit": 12, "comment": 13}
LISTS = ("/equipements", "/tickets", "/ecoles", "/travaux")
# Who each client signs in as: the two demo roles that edit items and answer tickets.
WRITERS = ("admin@socle.example", "technicien@socle.example")


# -- preparing the database -------------------------------------------------------------
def prepare(database_url: str, instance: Path, clients: int) -> dict[str, Any]:
    """Migrate, load the demo data, then add items (with their labels) and one ticket per
    item in the demo town: ``ITEMS_PER_CLIENT`` of each for every client. Returns the ids
    and tokens the clients use."""
    app = create_app(
        {"DATABASE_URL": database_url, "SECRET_KEY": SECRET, "INSTANCE_PATH": str(instance)}
    )
    with app.app_context(), audit.acting_as(audit.Actor(None, "load preparation")):
        upgrade()
        session = db.session
        if session.scalar(select(User.id).filter_by(email=WRITERS[1])) is None:
            for _line in load_demo(session):
                pass
            session.commit()
        technicien = session.scalar(select(User).filter_by(email=WRITERS[1]))
        town_id = next(s.ref_id for s in technicien.scopes)  # the demo town
        town = session.get(Collectivite, town_id)
        wanted = ITEMS_PER_CLIENT * clients
        have = list(
            session.scalars(
                select(Asset).filter_by(collectivite_id=town_id).order_by(Asset.id).limit(wanted)
            )
        )
        rooms = list(
            session.scalars(
                select(Classroom)
                .join(Ecole, Classroom.ecole_id == Ecole.id)
                .where(Ecole.collectivite_id == town_id)
                .order_by(Classroom.id)
                .limit(wanted)
            )
        )
        eni = catalogue.category_by_code(session, "eni")
        model = catalogue.get_or_create_model(session, "Speechi", "SPE-75", eni)
        admin = session.scalar(select(User).filter_by(email=WRITERS[0]))
        for i in range(len(have), wanted):
            room = rooms[i % len(rooms)]
            have.append(
                lifecycle.create_asset(
                    session,
                    admin,
                    where=lifecycle.Where(town, room.ecole, room),
                    model=model,
                    status=AssetStatus.IN_SERVICE,
                    fields=lifecycle.AssetFields(serial=f"LOAD-{i:05d}"),
                )
            )
        session.commit()
        toks = tokens.active_tokens(session, asset_ids=[a.id for a in have], classroom_ids=[])
        session.commit()
        labels = [toks[("asset", a.id)].token for a in have]
        problem = session.scalar(select(ProblemType.id).filter_by(code="autre"))
        tickets = []
        for asset, token in zip(have, labels, strict=True):
            ticket = session.scalar(select(Ticket).filter_by(asset_id=asset.id).limit(1))
            if ticket is None:
                target = public.find_target(session, token)
                sent = public.Report(problem_type_id=problem, description="Charge : ticket.")
                outcome = public.report_problem(
                    session, app.config, target, sent, photo_dir=instance / "uploads"
                )
                ticket = outcome.ticket
            tickets.append(ticket.id)
        session.commit()
        assets_ids = [a.id for a in have]
        db.session.remove()
        db.engine.dispose()
    return {"assets": assets_ids, "tokens": labels, "tickets": tickets, "password": DEMO_PASSWORD}


# -- the server --------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def has_job_worker(env: dict[str, str]) -> bool:
    """Whether this Socle has ``flask jobs work`` (the job queue's consumer): the hook that
    starts one beside the web workers."""
    probe = subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "jobs", "work", "--help"],
        cwd=ROOT,
        capture_output=True,
        env=env,
    )
    return probe.returncode == 0


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    command = [
        str(ROOT / ".venv/bin/gunicorn"),
        "--workers", str(workers),
        "--bind", f"127.0.0.1:{port}",
        "--timeout", "60",
        "--access-logfile", "-" if os.environ.get("LOAD_ACCESS_LOG") else "/dev/null",
        "wsgi:app",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)


def wait_healthy(base: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn stopped at start-up")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer /healthz in time")


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The command may hold spaces and parentheses: the fields follow the last ")".
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# -- the clients -------------------------------------------------------------------------
class _Forms(HTMLParser):
    """The forms of a page: action and the values a browser would send (submit buttons,
    files and unchecked boxes left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}})
        if not self.forms:
            return
        fields = self.forms[-1]["fields"]
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                fields.setdefault(a["name"], None)
                return
            fields[a["name"]] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            fields[a["name"]] = ""
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            fields[a["name"]] = None
        elif (
            tag == "option"
            and self._select
            # The first option, unless a later one is the selected one.
            and (fields.get(self._select) is None or "selected" in a)
        ):
            fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1]["fields"][self._textarea] += data


def forms_of(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    error_kinds: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if error:
                self.errors[kind] += 1
                self.error_kinds[f"{kind}: {error}"] += 1


class Failed(Exception):
    pass


class Browser:
    """One person's browser: its cookies, following redirects like a browser does."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def open(self, path: str, data: dict[str, Any] | None = None) -> tuple[int, str, str]:
        body = None
        if data is not None:
            pairs = [(k, v) for k, v in data.items() if v is not None]
            body = urllib.parse.urlencode(pairs).encode()
        request = urllib.request.Request(self.base + path, data=body)
        try:
            with self.opener.open(request, timeout=60) as answer:
                return answer.status, answer.geturl(), answer.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.geturl(), exc.read().decode("utf-8", "replace")

    def page(self, path: str) -> str:
        status, _url, html = self.open(path)
        if status != 200:
            raise Failed(f"HTTP {status}")
        return html

    def submit(self, path: str, match: str, change: dict[str, str]) -> str:
        """Send the form of ``path`` whose action ends with ``match``, with ``change``."""
        html = self.page(path)
        form = next((f for f in forms_of(html) if f["action"].endswith(match)), None)
        if form is None:
            raise Failed("form not found")
        status, url, answer = self.open(form["action"] or path, {**form["fields"], **change})
        if status != 200:
            raise Failed(f"HTTP {status}")
        if url.endswith(match):  # stayed on the form: refused
            raise Failed("form refused")
        return answer


def client(
    number: int, base: str, world: dict[str, Any], deadline: float, results: Results
) -> None:
    rng = random.Random(number)
    staff, phone = Browser(base), Browser(base)
    email = WRITERS[number % len(WRITERS)]
    started = time.perf_counter()
    try:
        status, url, _html = _login(staff, email, world["password"])
        refused = status != 200 or url.endswith("/login")
        error = f"sign-in refused (HTTP {status})" if refused else None
    except (Failed, StopIteration, OSError) as exc:  # OSError: URLError, a reset connection
        refused, error = True, f"sign-in failed ({type(exc).__name__}: {exc})"
    results.record("login", time.perf_counter() - started, error)
    if refused:
        return
    own = slice(number * ITEMS_PER_CLIENT, (number + 1) * ITEMS_PER_CLIENT)
    assets, tickets = world["assets"][own], world["tickets"][own]
    kinds, weights = zip(*MIX.items(), strict=True)
    n = 0
    while time.monotonic() < deadline:
        n += 1
        kind = rng.choices(kinds, weights)[0]
        started = time.perf_counter()
        error = None
        try:
            if kind == "scan":
                phone.page(f"/q/{rng.choice(world['tokens'])}")
            elif kind == "list":
                staff.page(rng.choice(LISTS))
            elif kind == "dashboard":
                staff.page("/tableau-de-bord")
            elif kind == "edit":
                asset = rng.choice(assets)
                notes = f"Charge : client {number}, modification {n}."
                staff.submit(f"/equipements/{asset}/modifier", "/modifier", {"notes": notes})
            else:
                ticket = rng.choice(tickets)
                body = f"Charge : client {number}, message {n}."
                staff.submit(f"/tickets/{ticket}", "/messages", {"body": body})
        except Failed as exc:
            error = str(exc)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            error = type(exc).__name__
        results.record(kind, time.perf_counter() - started, error)


def _login(browser: Browser, email: str, password: str) -> tuple[int, str, str]:
    html = browser.page("/login")
    form = next(f for f in forms_of(html) if "password" in f["fields"])
    fields = {**form["fields"], "email": email, "password": password}
    return browser.open(form["action"] or "/login", fields)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def report(
    results: Results, seconds: float, memory: dict[int, tuple[float | None, float | None]]
) -> int:
    total = sum(len(v) for v in results.latencies.values())
    errors = sum(results.errors.values())
    print(f"\n{total} requests in {seconds:.0f} s ({total / seconds:.1f}/s), {errors} errors")
    print(f"{'kind':<10} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind in [*MIX, "login"]:
        values = results.latencies.get(kind)
        if not values:
            continue
        print(
            f"{kind:<10} {len(values):>9} {results.errors[kind]:>7} "
            f"{percentile(values, 0.5) * 1000:>8.0f} {percentile(values, 0.95) * 1000:>8.0f} "
            f"{max(values) * 1000:>8.0f}"
        )
    for what, times in results.error_kinds.most_common():
        print(f"  error {what}: {times}")
    print("worker memory (RSS, MiB): " + ", ".join(
        f"pid {pid} {before or 0:.0f} → {after or 0:.0f}" for pid, (before, after) in memory.items()
    ))  # fmt: skip
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=180, help="seconds (default 180)")
    parser.add_argument("--clients", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    parser.add_argument("--database-url", help="a PostgreSQL URL (default: SQLite, temporary)")
    parser.add_argument("--redis-url", help="REDIS_URL for the server (shared rate limits)")
    args = parser.parse_args(argv)
    duration = min(max(args.duration, 5), MAX_DURATION)
    clients = min(max(args.clients, 1), 32)
    workers = min(max(args.workers, 1), 8)

    folder = Path(tempfile.mkdtemp(prefix="socle-load-"))
    try:
        instance = folder / "instance"
        instance.mkdir()
        # Served over plain HTTP on the loopback: the cookies may not be HTTPS-only.
        (instance / "config.py").write_text(
            "SESSION_COOKIE_SECURE = False\nREMEMBER_COOKIE_SECURE = False\n"
        )
        url = args.database_url or f"sqlite:///{folder / 'socle.db'}"
        print(f"Preparing {url.split('@')[-1]} …", flush=True)
        world = prepare(url, instance, clients)
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET,
            "SOCLE_INSTANCE_PATH": str(instance),
        }
        if args.redis_url:
            env["REDIS_URL"] = args.redis_url
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(env, port, workers)
        consumer = None
        try:
            wait_healthy(base, server)
            if has_job_worker(env):
                consumer = subprocess.Popen(
                    [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "jobs", "work"],
                    cwd=ROOT, env=env, start_new_session=True,
                )  # fmt: skip
                print("Job consumer started (flask jobs work).")
            else:
                print("No job consumer: this Socle has no `flask jobs work`.")
            pids = children(server.pid)
            before = {pid: rss_mib(pid) for pid in pids}
            print(
                f"gunicorn on {base}, {workers} workers; {clients} clients for {duration:.0f} s …",
                flush=True,
            )
            results = Results()
            started = time.monotonic()
            deadline = started + duration
            threads = [
                threading.Thread(target=client, args=(i, base, world, deadline, results))
                for i in range(clients)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - started
            memory = {pid: (before.get(pid), rss_mib(pid)) for pid in pids}
            return report(results, elapsed, memory)
        finally:
            if consumer is not None:
                stop(consumer)
            stop(server)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
