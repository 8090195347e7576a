"""Real servers of a test's own on loopback, shared by the test modules that need them."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import redis
import requests


def free_port() -> int:
    """A port nothing listens on (bound then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own, on a spare loopback port, that the test may stop."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed for these tests (apt-get install redis-server)"
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@contextmanager
def a_redis(workdir: Path) -> Iterator[str]:
    """A real Redis URL: the shared test Redis (TEST_REDIS_URL), or a server of the test's own."""
    shared = os.environ.get("TEST_REDIS_URL")
    if shared:
        yield shared
        return
    server = RedisServer(workdir)
    try:
        yield server.url
    finally:
        server.stop()


class WebhookReceiver:
    """A real HTTP server on loopback that records every POST (headers and body) and
    answers each with the next status code of ``answers`` (then 200)."""

    def __init__(
        self, answers: list[int] | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.answers = list(answers or [])
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.received.append((dict(self.headers.items()), body))
                    code = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def a_webhook_receiver(
    answers: list[int] | None = None, host: str = "127.0.0.1", port: int = 0
) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(answers, host, port)
    try:
        yield receiver
    finally:
        receiver.stop()


@contextmanager
def an_oidc_provider(id_token_max_age: int = 3600) -> Iterator[str]:
    """A real OpenID Connect provider (oidc-provider-mock) on loopback, in a process of
    its own; its issuer URL. A negative ``id_token_max_age`` makes it issue ID tokens
    already expired."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oidc_provider_mock",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--require-nonce",
            f"--token-max-age={id_token_max_age}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Authlib's client refuses plain http, which the loopback provider speaks.
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    try:
        for _ in range(200):
            try:
                if requests.get(issuer + "/.well-known/openid-configuration", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.05)
        else:
            raise RuntimeError("oidc-provider-mock did not start")
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


# Recorded answers of a CAS 3 server (Apereo CAS's /p3/serviceValidate), with the
# attributes an académie's CAS releases.
CAS_SUCCESS = """<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationSuccess>
    <cas:user>{user}</cas:user>
    <cas:attributes>
      <cas:mail>{mail}</cas:mail>
      <cas:displayName>{name}</cas:displayName>
      <cas:groups>ien</cas:groups>
      <cas:groups>circonscription</cas:groups>
    </cas:attributes>
  </cas:authenticationSuccess>
</cas:serviceResponse>"""
CAS_FAILURE = """<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationFailure code="INVALID_TICKET">Ticket {ticket} not recognized
  </cas:authenticationFailure>
</cas:serviceResponse>"""


class CasServer:
    """A tiny CAS server on loopback answering with recorded protocol responses: /login
    sends back to the service with a ticket for ``user``; /p3/serviceValidate and
    /serviceValidate accept each ticket once, for the service it was issued to."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.user = {"user": "jdupont", "mail": "jean.dupont@ac-creteil.fr", "name": "Jean Dupont"}
        self.tickets: dict[str, str] = {}
        self.validations: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/cas/login":
                    ticket = f"ST-{len(outer.tickets) + 1}-loopback"
                    outer.tickets[ticket] = query["service"]
                    self.send_response(302)
                    self.send_header(
                        "Location", f"{query['service']}?{urlencode({'ticket': ticket})}"
                    )
                    self.end_headers()
                    return
                if parts.path in ("/cas/p3/serviceValidate", "/cas/serviceValidate"):
                    outer.validations.append({"path": parts.path, **query})
                    ticket = query.get("ticket", "")
                    good = outer.tickets.pop(ticket, None) == query.get("service")
                    body = (
                        CAS_SUCCESS.format(**outer.user)
                        if good
                        else CAS_FAILURE.format(ticket=ticket)
                    )
                    self.send_response(200)
                    self.send_header("Content-Type", "application/xml; charset=utf-8")
                    self.end_headers()
                    self.wfile.write(body.encode())
                    return
                self.send_response(404)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cas"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# A real CAS server: django-cas-server (PyPI), in a virtualenv of its own, kept between runs
# (SOCLE_CAS_VENV, else ~/.cache/socle-tests/cas-venv): made once, with pip, on first use.
CAS_VENV = Path(
    os.environ.get("SOCLE_CAS_VENV") or Path.home() / ".cache" / "socle-tests" / "cas-venv"
)
CAS_SETTINGS = """
SECRET_KEY = "loopback-cas-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "cas_urls"
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.messages", "django.contrib.staticfiles", "cas_server",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": "cas.sqlite3"}}
STATIC_URL = "/static/"
CAS_AUTH_CLASS = "cas_server.auth.TestAuthUser"
CAS_TEST_USER = "jdupont"
CAS_TEST_PASSWORD = "mot-de-passe-cas"
CAS_TEST_ATTRIBUTES = {"mail": "jean.dupont@ac-creteil.fr", "displayName": "Jean Dupont"}
CAS_NEW_VERSION_HTML_WARNING = False
CAS_NEW_VERSION_EMAIL_WARNING = False
CAS_SHOW_POWERED = False
"""
CAS_URLS = """
from django.urls import include, path
urlpatterns = [path("cas/", include("cas_server.urls", namespace="cas_server"))]
"""
# The services it accepts (Socle's test client and live servers), and the attributes it
# releases to them.
CAS_SERVICES = """
from cas_server.models import ReplaceAttributName, ServicePattern
pattern = ServicePattern.objects.create(name="socle", pattern=r"^http://(localhost|127\\.0\\.0\\.1)(:[0-9]+)?/")
for name in ("mail", "displayName"):
    ReplaceAttributName.objects.create(name=name, replace="", service_pattern=pattern)
"""


def cas_virtualenv() -> Path:
    """The django-admin of the CAS server's virtualenv, made if missing."""
    admin = CAS_VENV / "bin" / "django-admin"
    if not admin.exists():
        subprocess.run([sys.executable, "-m", "venv", str(CAS_VENV)], check=True)
        pip = [str(CAS_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "django-cas-server>=3.1,<4"], check=True)
    return admin


class DjangoCasServer:
    """django-cas-server on a loopback port, its one user ``jdupont``; ``url`` its base."""

    user, password = "jdupont", "mot-de-passe-cas"

    def __init__(self, workdir: Path) -> None:
        admin = cas_virtualenv()
        (workdir / "cas_settings.py").write_text(CAS_SETTINGS)
        (workdir / "cas_urls.py").write_text(CAS_URLS)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cas_settings",
            "PYTHONPATH": str(workdir),
        }
        run = {"cwd": workdir, "env": env, "check": True, "capture_output": True}
        subprocess.run([str(admin), "migrate", "--noinput"], **run)  # type: ignore[call-overload]
        subprocess.run([str(admin), "shell", "-c", CAS_SERVICES], **run)  # type: ignore[call-overload]
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/cas"
        self.process = subprocess.Popen(
            [str(admin), "runserver", f"127.0.0.1:{port}", "--noreload", "--insecure"],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                requests.get(self.url + "/login", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("django-cas-server did not start")

    def log_in(self, login_url: str) -> str:
        """A browser's way through its login form (as ``jdupont``): where it sends back."""
        browser = requests.Session()
        form = browser.get(login_url, timeout=10)
        fields = dict(re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', form.text))
        fields.update(username=self.user, password=self.password)
        answer = browser.post(form.url, data=fields, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text[:2000]
        return answer.headers["location"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
