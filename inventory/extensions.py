"""Extensions, created unbound and initialised by the app factory."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from inventory.core.db import Base

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    class RequestSession(Session):
        """What ``db.session`` is to the code: Flask-SQLAlchemy's scoped session proxies
        every method of the request's Session, so services typed ``session: Session`` take
        it as it is; ``remove`` ends the request's session."""

        def remove(self) -> None: ...

    class TypedSQLAlchemy(SQLAlchemy):
        session: RequestSession  # type: ignore[assignment]


# Typed once here rather than at each of the hundreds of calls passing db.session on.
db = cast("TypedSQLAlchemy", SQLAlchemy(model_class=Base))
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# With Redis (REDIS_URL) the limits are shared by every worker. When Redis cannot be
# reached, signing in and reporting must still work: the limits then count per process, in
# memory (Flask-Limiter logs "Rate limit storage unreachable - falling back to in-memory
# storage" on the ``flask-limiter`` logger, and "Rate limit storage recovered" when it pings
# again), and an error of the storage is logged rather than raised. A Redis that hangs
# rather than refuses costs a request one second at most.
limiter = Limiter(
    key_func=get_remote_address,
    default_limits=[],
    in_memory_fallback_enabled=True,
    swallow_errors=True,
    storage_options={"socket_connect_timeout": 1, "socket_timeout": 1},
)
