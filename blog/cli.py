"""The `blog` command: serve the site, migrate the database, add users and demo content."""

import argparse
import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from pydantic import ValidationError
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session
from tqdm import tqdm

from blog.config import Settings
from blog.db import database_is_unavailable, make_engine, one_line
from blog.forms import error_messages
from blog.invites import INVITE_LIFETIME, create_invite
from blog.migrate import (
    SchemaBehind,
    current_revision,
    downgrade,
    ensure_schema,
    head_revision,
    upgrade,
)
from blog.models import UserCreate
from blog.seed import DEMO_PASSWORD, seed
from blog.users import (
    EmailTaken,
    create_user,
    get_user_by_email,
    password_reset_link,
    set_admin,
)

# Where links printed for people point when BASE_URL is unset: `blog serve`'s own address.
DEFAULT_SITE_ADDRESS = "http://127.0.0.1:8000"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    if not hasattr(arguments, "run"):
        parser.print_help()
        return 2
    settings = Settings()
    try:
        return arguments.run(arguments, settings) or 0
    except SchemaBehind as error:
        print(f"blog: {error}", file=sys.stderr)
        return 1
    except DBAPIError as error:
        # Unreachable, unwritable, not a database: one line saying so, not a traceback. Other
        # database errors are bugs, and their traceback is what helps.
        if not database_is_unavailable(error):
            raise
        database = make_url(settings.database_url).render_as_string(hide_password=True)
        print(f"blog: cannot use the database {database}: {one_line(error.orig)}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blog",
        description="A small server-rendered blog. Settings come from the environment "
        "(DATABASE_URL, SECRET_KEY, ...); see the README.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve_command = commands.add_parser(
        "serve",
        help="serve the site (SQLite is brought up to date first)",
        description="Serve the site with uvicorn. On SQLite the schema is upgraded first; on "
        "PostgreSQL the site refuses to start until `blog db upgrade` has been run.",
    )
    serve_command.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (%(default)s)"
    )
    serve_command.add_argument(
        "--port", type=int, default=8000, help="port to listen on (%(default)s)"
    )
    serve_command.add_argument(
        "--workers", type=int, default=1, help="worker processes (%(default)s)"
    )
    serve_command.add_argument(
        "--reload", action="store_true", help="restart when the code changes"
    )
    serve_command.set_defaults(run=_serve)

    database_command = commands.add_parser(
        "db", help="schema migrations", description="Apply or inspect schema migrations."
    )
    database_commands = database_command.add_subparsers(title="commands", metavar="COMMAND")
    upgrade_command = database_commands.add_parser(
        "upgrade", help="migrate up (to the newest schema by default)"
    )
    upgrade_command.add_argument("revision", nargs="?", default="head", help="target (%(default)s)")
    upgrade_command.set_defaults(run=_upgrade)
    downgrade_command = database_commands.add_parser(
        "downgrade", help="migrate down (one step by default)"
    )
    downgrade_command.add_argument("revision", nargs="?", default="-1", help="target (%(default)s)")
    downgrade_command.set_defaults(run=_downgrade)
    current_command = database_commands.add_parser("current", help="show the database's revision")
    current_command.set_defaults(run=_current)
    database_command.set_defaults(
        run=lambda arguments, settings: database_command.print_help() or 2
    )

    create_user_command = commands.add_parser(
        "create-user",
        help="add a user",
        description="Add a user. The password is asked for unless --password-stdin is given.",
    )
    create_user_command.add_argument("--name", required=True)
    create_user_command.add_argument("--email", required=True)
    create_user_command.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create_user_command.add_argument(
        "--admin", action="store_true", help="make the user an admin (see `blog admin`)"
    )
    create_user_command.set_defaults(run=_create_user)

    reset_link_command = commands.add_parser(
        "reset-link",
        help="print a link that sets a new password",
        description="Print a one-time link that sets a new password for the account with this "
        "email, valid for an hour. It starts with BASE_URL when that is set.",
    )
    reset_link_command.add_argument("email")
    reset_link_command.set_defaults(run=_reset_link)

    admin_command = commands.add_parser(
        "admin",
        help="make a user an admin, or not",
        description="Admins see every account at /admin/users, can suspend, reinstate and "
        "delete accounts, and can delete any blog.",
    )
    admin_commands = admin_command.add_subparsers(title="commands", metavar="COMMAND")
    grant_command = admin_commands.add_parser("grant", help="make the user with EMAIL an admin")
    grant_command.add_argument("email", metavar="EMAIL")
    grant_command.set_defaults(run=_set_admin, is_admin=True)
    revoke_command = admin_commands.add_parser(
        "revoke", help="make the user with EMAIL an admin no more"
    )
    revoke_command.add_argument("email", metavar="EMAIL")
    revoke_command.set_defaults(run=_set_admin, is_admin=False)
    admin_command.set_defaults(run=lambda arguments, settings: admin_command.print_help() or 2)

    invite_command = commands.add_parser(
        "invite",
        help="print a one-time sign-up link",
        description="Print a link that opens the sign-up form once, within "
        f"{INVITE_LIFETIME.days} days, even with REGISTRATION=closed. It uses BASE_URL when set.",
    )
    invite_command.set_defaults(run=_invite)

    seed_command = commands.add_parser(
        "seed",
        help="fill the database with demo content",
        description="Add demo authors and blogs, the same every time (a fixed random seed).",
    )
    seed_command.add_argument("--users", type=_positive, default=20, help="authors (%(default)s)")
    seed_command.add_argument(
        "--blogs", type=_not_negative, default=200, help="blogs (%(default)s)"
    )
    seed_command.add_argument("--seed", type=int, default=2026, help="random seed (%(default)s)")
    seed_command.set_defaults(run=_seed)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _not_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


@contextmanager
def _engine(settings: Settings, *, ready: bool = False) -> Iterator[Engine]:
    """An engine for one command, disposed after it; `ready` first makes sure the schema is
    current (SQLite is upgraded, other databases only checked)."""
    engine = make_engine(settings.database_url)
    try:
        if ready:
            ensure_schema(engine)
        yield engine
    finally:
        engine.dispose()


def _serve(arguments: argparse.Namespace, settings: Settings) -> int:
    # Checked here once, before any worker starts, so a behind schema is one clear message.
    with _engine(settings, ready=True):
        pass
    uvicorn.run(
        "blog.main:app",
        host=arguments.host,
        port=arguments.port,
        workers=arguments.workers,
        reload=arguments.reload,
        proxy_headers=True,
        # The blog logs every request itself (blog.logs), without the query string.
        access_log=False,
    )
    return 0


def _upgrade(arguments: argparse.Namespace, settings: Settings) -> int:
    with _engine(settings) as engine:
        upgrade(engine, arguments.revision)
        print(f"The database is at revision {current_revision(engine) or 'none'}.")
    return 0


def _downgrade(arguments: argparse.Namespace, settings: Settings) -> int:
    with _engine(settings) as engine:
        downgrade(engine, arguments.revision)
        print(f"The database is at revision {current_revision(engine) or 'none'}.")
    return 0


def _current(arguments: argparse.Namespace, settings: Settings) -> int:
    with _engine(settings) as engine:
        current, head = current_revision(engine), head_revision(engine)
    state = "up to date" if current == head else f"behind: the newest is {head}"
    print(f"{current or 'none (empty database)'} ({state})")
    return 0


def _create_user(arguments: argparse.Namespace, settings: Settings) -> int:
    if arguments.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
    try:
        user_create = UserCreate.model_validate(
            {"name": arguments.name, "email": arguments.email, "password": password}
        )
    except ValidationError as error:
        for field, message in error_messages(error).items():
            print(f"blog: {field}: {message}", file=sys.stderr)
        return 1
    with _engine(settings, ready=True) as engine, Session(engine) as session:
        try:
            user = create_user(session=session, user_create=user_create, is_admin=arguments.admin)
        except EmailTaken:
            print(f"blog: email: {EmailTaken.message}", file=sys.stderr)
            return 1
        role = "admin" if user.is_admin else "user"
        print(f"Created {role} {user.id}: {user.name} <{user.email}>")
    return 0


def _set_admin(arguments: argparse.Namespace, settings: Settings) -> int:
    with _engine(settings, ready=True) as engine, Session(engine) as session:
        user = get_user_by_email(session=session, email=arguments.email.strip())
        if user is None:
            print(f"blog: no account has the email {arguments.email}", file=sys.stderr)
            return 1
        set_admin(session=session, user=user, is_admin=arguments.is_admin)
        state = "now an admin" if arguments.is_admin else "no longer an admin"
        print(f"{user.name} <{user.email}> is {state}.")
    return 0


def _invite(arguments: argparse.Namespace, settings: Settings) -> int:
    with _engine(settings, ready=True) as engine, Session(engine) as session:
        token = create_invite(session=session)
    print(f"{settings.base_url or DEFAULT_SITE_ADDRESS}/register?invite={token}")
    print(f"It opens the sign-up form once, within {INVITE_LIFETIME.days} days.", file=sys.stderr)
    return 0


def _reset_link(arguments: argparse.Namespace, settings: Settings) -> int:
    with _engine(settings, ready=True) as engine, Session(engine) as session:
        user = get_user_by_email(session=session, email=arguments.email.strip())
        if user is None:
            print(f"blog: no account has the email {arguments.email}", file=sys.stderr)
            return 1
        print(password_reset_link(user=user, settings=settings))
    return 0


def _seed(arguments: argparse.Namespace, settings: Settings) -> int:
    with (
        _engine(settings, ready=True) as engine,
        tqdm(total=arguments.blogs, unit="blog", desc="Writing blogs") as bar,
    ):
        seed(
            engine,
            users=arguments.users,
            blogs=arguments.blogs,
            random_seed=arguments.seed,
            progress=bar.update,
        )
    print(f"Added {arguments.users} users (password: {DEMO_PASSWORD}) and {arguments.blogs} blogs.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
