"""A request that only read ends its transaction with COMMIT, not the session's ROLLBACK.

For a transaction that wrote nothing the two are the same, but psycopg forgets every
statement it has prepared at each ROLLBACK (the rollback may have undone a table they
name). Ended by the session's rollback, as every request was, no statement of a page was
ever prepared on PostgreSQL: each was parsed and planned anew at every request, which was
three quarters of the scan page's database time (its one statement, of ten joins: 1.5 ms
planned, 0.3 ms prepared, on the benchmark's machine).

Only a request of a safe method (GET, HEAD, OPTIONS), answered without an error and not
streamed, whose session holds no change and whose transaction ran nothing but SELECT
statements, ends so. Any statement that does not begin with SELECT (an INSERT, a
savepoint, a CTE, which may write) marks the transaction as written, and the request
ends as before. On SQLite the commit
of a read changes nothing either."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

# The methods that change nothing by HTTP's rules (the API's read-only tokens use them too).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# In the connection's info (kept with the pooled connection): the transaction under way
# ran a statement that may have written.
_WROTE = "socle_transaction_wrote"


def _began(conn: Connection) -> None:
    conn.info.pop(_WROTE, None)


def _executing(
    conn: Connection,
    _cursor: Any,
    statement: str,
    _parameters: Any,
    _context: Any,
    executemany: bool,
) -> None:
    # SQLAlchemy renders its SELECTs (and their UNIONs) from "SELECT": anything else,
    # WITH included (a CTE may write), counts as a write.
    if executemany or not statement.lstrip("( \n").startswith("SELECT"):
        conn.info[_WROTE] = True


def install(app: Flask, db: SQLAlchemy, engine: Engine) -> None:
    event.listen(engine, "begin", _began)
    event.listen(engine, "before_cursor_execute", _executing)

    @app.after_request
    def _end_a_read_with_commit(response: Response) -> Response:
        session = db.session()  # the request's own, out of the scoped registry
        transaction = session.get_transaction()
        if (
            request.method in SAFE_METHODS
            and response.status_code < 400
            # A streamed body (an export) reads on as it is sent: its transaction, and
            # the objects it reads, last until the end, which the teardown closes.
            and not response.is_streamed
            and transaction is not None
            and transaction.is_active  # not after a failed flush the view caught
            and not (session.new or session.dirty or session.deleted)
            and not session.connection().info.get(_WROTE)
        ):
            session.commit()
        return response
