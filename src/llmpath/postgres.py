"""PostgreSQL: opening the database, locks, what its failures mean to a user, and a study group's security.

A URL (`LLMPATH_DATABASE_URL` or `llmpath connect`) points llmpath here; the driver is psycopg 3 (the
`llmpath[postgres]` extra). The tables and migrations are the same as SQLite's; only what the engines do
differently lives here:
- the schema version is the `llmpath_schema` table, and migrations run under an advisory lock, so twenty
  clients starting at once on a new database create it once;
- writes queue per learner on an advisory lock (`db.writing`), roadmap loads on one per roadmap;
- `team_init` installs row-level security: members change only their own rows, whatever SQL they send.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from llmpath import config
from llmpath.errors import DatabaseError, LlmpathError
from llmpath.migrations import DATABASE_VERSION, migrate, read_version

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlmodel import Session

# An unreachable server is reported within this many seconds instead of hanging a command.
CONNECT_TIMEOUT_S = 5
MEMBER_ROLE = "llmpath_member"
MENTOR_ROLE = "llmpath_mentor"


def open_database(url: str, learner: str) -> Engine:
    from sqlalchemy import create_engine
    from sqlalchemy import exc as sa_exc

    from llmpath.db import LEARNER

    try:
        import psycopg  # noqa: F401  # only to say which extra to install when it is missing
    except ImportError:
        raise DatabaseError(
            f"{config.masked_url(url)} is a PostgreSQL database, which needs the psycopg driver: "
            "pip install 'llmpath[postgres]' (or `llmpath connect --local` for the SQLite file)"
        ) from None
    engine = create_engine(
        config.sqlalchemy_url(url),
        connect_args=connect_args(url),
        execution_options={LEARNER: learner},
        use_native_hstore=False,  # no hstore columns: spares the type look-up on connect (3 round trips)
    )
    try:
        with engine.connect() as conn:
            version = read_version(conn)
            conn.rollback()
        if version != DATABASE_VERSION:
            upgrade(engine, learner)
    except sa_exc.DBAPIError as exc:
        raise user_error(exc, url) or exc from None
    return engine


def connect_args(url: str, application: str = "llmpath") -> dict[str, Any]:
    """psycopg's connection options: the server sees `application` (pg_stat_activity), and an unreachable
    server fails after CONNECT_TIMEOUT_S seconds, unless the URL (`?connect_timeout=N`) or PGCONNECT_TIMEOUT
    (libpq's usual places) say otherwise."""
    import os
    from urllib.parse import parse_qs, urlsplit

    args: dict[str, Any] = {"application_name": application}
    if "connect_timeout" not in parse_qs(urlsplit(url).query) and not os.environ.get("PGCONNECT_TIMEOUT"):
        args["connect_timeout"] = CONNECT_TIMEOUT_S
    return args


def upgrade(engine: Engine, learner: str) -> int:
    """Create or migrate the schema under an advisory lock; the version it found."""
    with engine.begin() as conn:
        _lock(conn, "schema")
        current = read_version(conn)  # another client may have done it while we waited for the lock
        if current > DATABASE_VERSION:
            raise DatabaseError(
                f"the database was written by a newer llmpath (schema {current}; this one knows "
                f"{DATABASE_VERSION}): upgrade llmpath (pip install -U 'llmpath[postgres]')"
            )
        if current < DATABASE_VERSION:
            try:
                migrate(conn, current, learner=learner)
            except Exception as exc:
                if type(getattr(exc, "orig", None)).__name__ == "InsufficientPrivilege":
                    raise DatabaseError(
                        f"the database's schema is version {current} and llmpath needs {DATABASE_VERSION}, "
                        "but your role may not change tables: ask the database's owner to run "
                        "`llmpath team init`"
                    ) from None
                raise
        return current


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for an advisory lock named `name` (the same in every client)."""
    digest = hashlib.blake2b(f"llmpath:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def advisory_lock(session: Session, name: str) -> None:
    from sqlalchemy import text

    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})


def begin_write(session: Session, learner: str) -> None:
    """The first statement of a write: queue on the learner's advisory lock (`learner:<name>`), and refuse,
    in one line and before anything is written, a write this role may not make: a read-only role (a
    mentor), or a member whose row-level security allows only the learner named like their role. Without
    this, the database would refuse some such writes midway and let others match no row in silence (RLS
    hides another learner's rows from UPDATE and DELETE). One round trip, as the lock alone."""
    from sqlalchemy import text

    role, may_write, guarded = session.execute(
        text(
            "SELECT current_user, has_table_privilege('progress', 'INSERT'), row_security_active('progress') "
            "FROM (SELECT pg_advisory_xact_lock(:key)) AS locked"
        ),
        {"key": lock_key(f"learner:{learner}")},
    ).one()
    if not may_write:
        raise DatabaseError(
            f"role {role} may read this study group's progress but not change any (a mentor's role); "
            "nothing was changed"
        )
    if guarded and role != learner:
        raise DatabaseError(
            f"you are learner '{learner}' but connected as role {role}, and in this study group a role "
            f"changes only the progress of the learner of its own name; nothing was changed (`llmpath "
            f"whoami`; unset LLMPATH_LEARNER, or `llmpath connect URL --as {role}`)"
        )


def _lock(conn: Connection, name: str) -> None:
    from sqlalchemy import text

    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})


# --- failures ---------------------------------------------------------------------------------------------

_CANNOT_CONNECT = (
    "connection failed",
    "could not connect",
    "could not translate",
    "failed to resolve host",
    "timeout expired",
    "connection is bad",
    "invalid port",
)
_LOST = (
    "server closed the connection",
    "terminating connection",
    "connection is lost",
    "consuming input failed",
    "connection already closed",
    "the connection is closed",
    "server conn crashed",
    "ssl syscall error",
    "eof detected",
)


def user_error(exc: BaseException, url: str | None = None) -> LlmpathError | None:
    """The one line for a PostgreSQL failure a user can act on (no server, lost connection, refused
    login, no privilege, a conflicting writer), or None: anything else is a bug."""
    orig = getattr(exc, "orig", exc)
    kind = type(orig).__name__
    detail = " ".join(str(orig).split()) or kind
    where = config.masked_url(url or config.target().url or "")
    if kind == "InsufficientPrivilege":
        return DatabaseError(
            f"the database at {where} refused this ({_first_sentence(detail)}): in a study group each member "
            "changes only the progress of the learner named like their database role (`llmpath whoami`)"
        )
    if kind in ("SerializationFailure", "DeadlockDetected", "LockNotAvailable"):
        return DatabaseError(
            f"another client changed the same rows at the same moment ({_first_sentence(detail)}); nothing "
            "was saved: run the command again"
        )
    if kind in ("InvalidPassword", "InvalidAuthorizationSpecification") or "authentication failed" in detail:
        return DatabaseError(
            f"the database at {where} refused the login ({_first_sentence(detail)}); put the password in "
            "~/.pgpass or PGPASSWORD, or check the user in the URL"
        )
    if kind == "InvalidCatalogName":
        return DatabaseError(
            f"{_first_sentence(detail)} at {where}; create it (createdb) or fix the URL (`llmpath connect`)"
        )
    if kind in (
        "OperationalError",
        "InterfaceError",
        "ConnectionTimeout",  # psycopg's own, when connect_timeout passes with no answer
        "AdminShutdown",
        "CannotConnectNow",
        "CrashShutdown",
    ):
        lowered = detail.lower()
        if any(word in lowered for word in _LOST) or kind in ("AdminShutdown", "CrashShutdown"):
            return DatabaseError(
                f"lost the connection to the database at {where} ({_first_sentence(detail)}); the "
                "transaction was rolled back, nothing was saved: run the command again"
            )
        if any(word in lowered for word in _CANNOT_CONNECT) or kind == "CannotConnectNow":
            return DatabaseError(
                f"cannot reach the database at {where} ({_reason(detail)}); start the server or fix the "
                "URL (`llmpath connect URL`), or go back to the local file with `llmpath connect --local`"
            )
        return DatabaseError(f"the database at {where} failed: {_first_sentence(detail)}")
    if kind in ("DiskFull", "OutOfMemory", "TooManyConnections", "QueryCanceled"):
        return DatabaseError(f"the database at {where} could not do this: {_first_sentence(detail)}")
    return None


def _first_sentence(detail: str) -> str:
    return detail.split("DETAIL:")[0].split("HINT:")[0].strip().rstrip(".")


def _reason(detail: str) -> str:
    """`connection failed: connection to server at "127.0.0.1", port 1 failed: Connection refused …` → its
    last clause, which says why."""
    text = _first_sentence(detail)
    reason = text.rsplit(" failed: ", 1)[-1]
    return reason.strip() or text


# --- a study group ----------------------------------------------------------------------------------------


def team_init(engine: Engine) -> list[str]:
    """Run by the database's owner once: create the schema and install row-level security.

    Two group roles: `llmpath_member` (reads every learner's rows; writes only rows whose learner is its
    own role name, and the shared roadmap tables) and `llmpath_mentor` (reads everything, writes nothing).
    Returns what it did, a line each. Idempotent: running it again changes nothing.
    """
    from sqlalchemy import text

    from llmpath.models import LEARNER_TABLES

    done: list[str] = []
    with engine.begin() as conn:
        _lock(conn, "schema")
        for role in (MEMBER_ROLE, MENTOR_ROLE):
            exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
            if not exists:
                conn.exec_driver_sql(f"CREATE ROLE {role} NOLOGIN")
                done.append(f"created role {role}")
        shared = ("roadmap", "phase", "topic", "topic_alias", "prerequisite")
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {MEMBER_ROLE}, {MENTOR_ROLE}")
        conn.exec_driver_sql(
            f"GRANT SELECT ON {', '.join((*shared, *LEARNER_TABLES, 'llmpath_schema'))} "
            f"TO {MEMBER_ROLE}, {MENTOR_ROLE}"
        )
        conn.exec_driver_sql(
            f"GRANT INSERT, UPDATE, DELETE ON {', '.join((*shared, *LEARNER_TABLES))} TO {MEMBER_ROLE}"
        )
        conn.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {MEMBER_ROLE}")
        for table in LEARNER_TABLES:
            conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            existing: set[str] = set(
                conn.execute(text("SELECT policyname FROM pg_policies WHERE tablename = :t"), {"t": table})
                .scalars()
                .all()
            )
            policies = {
                # Everyone granted SELECT reads every learner's rows: a study group sees each other.
                f"{table}_read": f"CREATE POLICY {table}_read ON {table} FOR SELECT USING (true)",
                # Changes only to one's own rows, before (USING) and after (WITH CHECK) the change.
                f"{table}_own": (
                    f"CREATE POLICY {table}_own ON {table} FOR ALL TO {MEMBER_ROLE} "
                    "USING (learner = current_user) WITH CHECK (learner = current_user)"
                ),
            }
            for name, statement in policies.items():
                if name not in existing:
                    conn.exec_driver_sql(statement)
                    done.append(f"row-level security policy {name}")
    return done


def privileges(conn: Any, learner: str) -> dict[str, bool]:
    """What the connected role may do: read the tables, write its own progress, change the schema."""
    from sqlalchemy import text

    row = conn.execute(
        text(
            "SELECT has_table_privilege('progress', 'SELECT'), has_table_privilege('progress', 'INSERT'), "
            "has_schema_privilege('public', 'CREATE'), current_user, "
            "(SELECT relrowsecurity FROM pg_class WHERE relname = 'progress' AND relkind = 'r')"
        )
    ).one()
    return {
        "read": bool(row[0]),
        "write": bool(row[1]),
        "create": bool(row[2]),
        "rls": bool(row[4]),
        "own_rows": not row[4] or row[3] == learner,
    }


# --- doctor -----------------------------------------------------------------------------------------------


def run_checks(url: str, learner: str, roadmap_override: str | None = None) -> list[Any]:
    """`llmpath doctor` on PostgreSQL, read-only: the connection, the schema version, what the role may do
    (row-level security included), orphaned progress, and the roadmap file in use."""
    from sqlalchemy import create_engine, text
    from sqlalchemy import exc as sa_exc

    from llmpath import doctor, queries

    where = config.masked_url(url)
    findings: list[doctor.Finding] = []
    settings: dict[str, str] | None = None
    engine = create_engine(
        config.sqlalchemy_url(url), connect_args=connect_args(url, "llmpath doctor"), use_native_hstore=False
    )
    try:
        with engine.connect() as conn:
            conn.execute(text("SET TRANSACTION READ ONLY"))
            server, role = conn.execute(text("SELECT current_setting('server_version'), current_user")).one()
            findings.append(doctor.Finding("connection", True, f"{where}: PostgreSQL {server}, role {role}"))
            version = read_version(conn)
            findings.append(_schema_finding(version))
            if version >= 5:
                allowed = privileges(conn, learner)
                findings.append(_privileges_finding(allowed, learner, str(role)))
                orphans = conn.execute(
                    text(queries.ORPHANED_PROGRESS), {"roadmap_id": None, "learner": learner}
                ).all()
                findings.append(
                    doctor.orphans_finding([(r.roadmap_id, r.topic_id, r.status) for r in orphans])
                )
                settings = dict(conn.execute(text(queries.LEARNER_SETTINGS), {"learner": learner}).all())
            else:
                settings = {}
    except sa_exc.DBAPIError as exc:
        explained = user_error(exc, url)
        findings.append(doctor.Finding("connection", False, str(explained or exc).splitlines()[0]))
    finally:
        engine.dispose()
    findings.append(doctor.roadmap_check(settings, roadmap_override))
    return findings


def _schema_finding(version: int) -> Any:
    from llmpath import doctor

    if version == 0:
        return doctor.Finding("schema", True, "no tables yet (the first llmpath command creates them)")
    if version > DATABASE_VERSION:
        return doctor.Finding(
            "schema", False, f"version {version} is newer than this llmpath ({DATABASE_VERSION}): upgrade it"
        )
    if version < DATABASE_VERSION:
        return doctor.Finding(
            "schema", True, f"version {version}; the next command migrates it to {DATABASE_VERSION}"
        )
    return doctor.Finding("schema", True, f"version {version} (current)")


def _privileges_finding(allowed: dict[str, bool], learner: str, role: str) -> Any:
    from llmpath import doctor

    if not allowed["read"]:
        return doctor.Finding("privileges", False, f"role {role} may not read the tables: ask the owner")
    if not allowed["write"]:
        return doctor.Finding(
            "privileges", True, f"role {role} reads every learner's progress and changes none (a mentor)"
        )
    if allowed["rls"] and not allowed["own_rows"]:
        return doctor.Finding(
            "privileges",
            False,
            f"row-level security lets role {role} change only learner '{role}', but you are learner "
            f"'{learner}': `llmpath connect URL --as {role}`",
        )
    security = "row-level security on" if allowed["rls"] else "no row-level security (`llmpath team init`)"
    return doctor.Finding("privileges", True, f"role {role} may record progress as '{learner}'; {security}")
