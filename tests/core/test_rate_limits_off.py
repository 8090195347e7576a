"""Rate limits switched off (``RATELIMIT_ENABLED = False``, as a deployment behind its own
limiting proxy may run, and as the benchmarks run): signing in works, and a wrong password
is still only refused. In a process of its own: Flask-Limiter's extension is one object
per process, which an app built earlier with the limits on would have set up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from inventory.paths import ROOT

SCRIPT = """
import sys
from flask_migrate import upgrade
from inventory import create_app
from inventory.auth.services import create_user
from inventory.core.policy import Role
from inventory.extensions import db
from tests.factories import ADMIN, PASSWORD

url = sys.argv[1]
app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "k",
                  "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                  "INSTANCE_PATH": sys.argv[2]})
with app.app_context():
    upgrade()
    create_user(db.session, ADMIN, email="directrice@example.org", name="Directrice",
                role=Role.ADMIN, password=PASSWORD)
    db.session.commit()
client = app.test_client()
wrong = client.post("/login", data={"email": "directrice@example.org", "password": "wrong"})
assert wrong.status_code == 200, wrong.status_code
assert client.get("/").status_code == 302  # not signed in
right = client.post("/login", data={"email": "directrice@example.org",
                                    "password": PASSWORD})
assert right.status_code == 302, right.get_data(as_text=True)[-2000:]
assert client.get("/").status_code == 200
print("signed in")
"""


def test_signing_in_works_with_the_limits_switched_off(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'socle.db'}"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, url, str(tmp_path / "instance")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("signed in")
