"""The `blog` command: help everywhere, migrations, adding users, demo content and serving."""

import gc
import getpass
import io
import sys
from collections.abc import Iterator

import httpx2
import pytest
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from sqlalchemy import inspect
from sqlmodel import Session, col, func, select

from blog import cli
from blog.app import create_app
from blog.cli import main
from blog.config import Settings
from blog.migrate import alembic_config, current_revision, upgrade
from blog.models import Blog, User
from blog.security import verify_password
from tests.conftest import engine_on, newest_revision, running_server, signed_in_name, submit_form

PASSWORD = "a long enough password"


@pytest.fixture(autouse=True)
def _collect_garbage() -> Iterator[None]:
    """Collect after each test, so a connection someone left open fails the test that left it."""
    yield
    gc.collect()


def _one_below_head() -> str:
    with engine_on("sqlite://") as engine:
        scripts = ScriptDirectory.from_config(alembic_config(engine))
        revision = scripts.get_revision(newest_revision())
    assert isinstance(revision.down_revision, str)
    return revision.down_revision


@pytest.fixture
def new_database(tmp_path, monkeypatch) -> str:
    """A SQLite file that does not exist yet, named in DATABASE_URL as the command reads it."""
    database_url = f"sqlite:///{tmp_path / 'blog.db'}"
    monkeypatch.setenv("DATABASE_URL", database_url)
    return database_url


@pytest.fixture
def current_database(new_database) -> str:
    """Like new_database, but already at the newest schema."""
    with engine_on(new_database) as engine:
        upgrade(engine)
    return new_database


def _users(database_url: str) -> list[User]:
    with engine_on(database_url) as engine, Session(engine) as session:
        return list(session.exec(select(User).order_by(col(User.id))).all())


def _count(database_url: str, model) -> int:
    with engine_on(database_url) as engine, Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


# Help


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["db"],
        ["db", "upgrade"],
        ["db", "downgrade"],
        ["db", "current"],
        ["create-user"],
        ["seed"],
    ],
    ids=lambda command: " ".join(command) or "blog",
)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])

    assert exit_.value.code == 0
    output = capsys.readouterr().out
    assert output.startswith(" ".join(["usage: blog", *command]))
    assert "--help" in output


def test_blog_without_a_command_prints_help_and_returns_2(capsys):
    assert main([]) == 2

    output = capsys.readouterr().out
    assert output.startswith("usage: blog")
    for command in ("serve", "db", "create-user", "seed"):
        assert command in output


def test_blog_db_without_a_command_prints_its_help_and_returns_2(capsys):
    assert main(["db"]) == 2

    output = capsys.readouterr().out
    assert output.startswith("usage: blog db")
    for command in ("upgrade", "downgrade", "current"):
        assert command in output


def test_serve_help_names_host_port_workers_and_reload(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])

    output = capsys.readouterr().out
    for option in ("--host", "--port", "--workers", "--reload"):
        assert option in output


def test_seed_help_names_users_blogs_and_seed(capsys):
    with pytest.raises(SystemExit):
        main(["seed", "--help"])

    output = capsys.readouterr().out
    for option in ("--users", "--blogs", "--seed"):
        assert option in output


# db


def test_db_current_says_up_to_date_at_the_newest_schema(current_database, capsys):
    assert main(["db", "current"]) == 0

    output = capsys.readouterr().out
    assert newest_revision() in output
    assert "up to date" in output


def test_db_current_says_behind_on_an_empty_database(new_database, capsys):
    assert main(["db", "current"]) == 0

    output = capsys.readouterr().out
    assert "behind" in output
    assert newest_revision() in output
    assert "up to date" not in output


def test_db_downgrade_steps_back_once_and_db_current_says_behind(current_database, capsys):
    assert main(["db", "downgrade"]) == 0
    assert _one_below_head() in capsys.readouterr().out

    assert main(["db", "current"]) == 0

    output = capsys.readouterr().out
    assert output.startswith(_one_below_head())
    assert "behind" in output
    with engine_on(current_database) as engine:
        assert current_revision(engine) == _one_below_head()


def test_db_upgrade_after_a_downgrade_returns_to_the_newest_schema(current_database, capsys):
    assert main(["db", "downgrade"]) == 0
    assert main(["db", "upgrade"]) == 0

    assert newest_revision() in capsys.readouterr().out.splitlines()[-1]
    with engine_on(current_database) as engine:
        assert current_revision(engine) == newest_revision()


# create-user


def _create_user(monkeypatch, name="Ada Lovelace", email="ada@example.com", password=PASSWORD):
    monkeypatch.setattr(sys, "stdin", io.StringIO(password + "\n"))
    return main(["create-user", "--name", name, "--email", email, "--password-stdin"])


def test_create_user_adds_a_user_who_can_log_in(new_database, monkeypatch, capsys):
    assert _create_user(monkeypatch) == 0
    assert "Ada Lovelace" in capsys.readouterr().out

    app = create_app(Settings(database_url=new_database, secret_key="test-secret"))
    try:
        with TestClient(app, follow_redirects=False) as client:
            response = submit_form(
                client, "/login", {"email": "ada@example.com", "password": PASSWORD}
            )
            assert response.status_code == 303, response.text
            assert signed_in_name(client.get("/").text) == "Ada Lovelace"
    finally:
        app.state.engine.dispose()


def test_create_user_stores_the_email_lower_cased(new_database, monkeypatch):
    assert _create_user(monkeypatch, email="Ada.Lovelace@Example.COM") == 0

    assert [user.email for user in _users(new_database)] == ["ada.lovelace@example.com"]


def test_create_user_brings_a_new_sqlite_file_to_the_newest_schema(new_database, monkeypatch):
    assert _create_user(monkeypatch) == 0

    with engine_on(new_database) as engine:
        assert current_revision(engine) == newest_revision()


@pytest.mark.parametrize(
    ("field", "details"),
    [
        ("password", {"password": "short"}),
        ("email", {"email": "not-an-email"}),
        ("email", {"email": "GRACE@example.com"}),
        ("name", {"name": "   "}),
    ],
    ids=["short password", "bad email", "taken email", "blank name"],
)
def test_create_user_refuses_bad_input_naming_the_field_and_writes_nothing(
    current_database, monkeypatch, capsys, field, details
):
    assert _create_user(monkeypatch, name="Grace Hopper", email="grace@example.com") == 0
    before = [(user.id, user.name, user.email) for user in _users(current_database)]
    capsys.readouterr()

    assert _create_user(monkeypatch, **details) == 1

    output, errors = capsys.readouterr()
    assert f"blog: {field}:" in errors
    assert "Created" not in output
    assert [(user.id, user.name, user.email) for user in _users(current_database)] == before


def test_create_user_without_password_stdin_asks_for_the_password(new_database, monkeypatch):
    prompts = []

    def fake_getpass(prompt="Password: ", stream=None):
        prompts.append(prompt)
        return PASSWORD

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))

    assert main(["create-user", "--name", "Ada Lovelace", "--email", "ada@example.com"]) == 0

    assert len(prompts) == 1
    [user] = _users(new_database)
    assert verify_password(PASSWORD, user.password_hash)
    assert PASSWORD not in user.password_hash


# seed


def test_seed_writes_exactly_the_users_and_blogs_asked_for(new_database, capsys):
    assert main(["seed", "--users", "3", "--blogs", "25"]) == 0

    assert _count(new_database, User) == 3
    assert _count(new_database, Blog) == 25
    assert "3 users" in capsys.readouterr().out


def test_seed_shows_a_progress_bar(new_database, capsys):
    assert main(["seed", "--users", "2", "--blogs", "30"]) == 0

    assert "30/30" in capsys.readouterr().err


def test_seed_spreads_blogs_among_the_demo_authors(new_database):
    assert main(["seed", "--users", "5", "--blogs", "200"]) == 0

    with engine_on(new_database) as engine, Session(engine) as session:
        authors = set(session.exec(select(Blog.author_id)).all())
        users = set(session.exec(select(User.id)).all())
    assert authors == users


def _content(database_url: str) -> tuple[list[tuple], list[tuple]]:
    with engine_on(database_url) as engine, Session(engine) as session:
        users = session.exec(select(User.name).order_by(col(User.id))).all()
        blogs = session.exec(
            select(Blog.title, Blog.body, Blog.author_id).order_by(col(Blog.id))
        ).all()
    return [tuple(row) for row in users], [tuple(row) for row in blogs]


def _seeded(tmp_path, monkeypatch, name: str, seed: str) -> tuple[list[tuple], list[tuple]]:
    database_url = f"sqlite:///{tmp_path / name}"
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["seed", "--users", "4", "--blogs", "20", "--seed", seed]) == 0
    return _content(database_url)


def test_seed_writes_the_same_content_every_time_with_the_same_seed(tmp_path, monkeypatch):
    first = _seeded(tmp_path, monkeypatch, "first.db", "7")
    second = _seeded(tmp_path, monkeypatch, "second.db", "7")

    assert first == second


def test_seed_writes_other_content_with_another_seed(tmp_path, monkeypatch):
    first = _seeded(tmp_path, monkeypatch, "first.db", "7")
    other = _seeded(tmp_path, monkeypatch, "other.db", "8")

    assert first[1] != other[1]


def test_seed_twice_on_one_database_adds_both_times(new_database):
    assert main(["seed", "--users", "2", "--blogs", "5"]) == 0
    assert main(["seed", "--users", "2", "--blogs", "5"]) == 0

    assert _count(new_database, User) == 4
    assert _count(new_database, Blog) == 10


@pytest.mark.parametrize(
    "arguments", [["--users", "0"], ["--users", "-3"], ["--blogs", "-1"], ["--users", "many"]]
)
def test_seed_rejects_a_bad_count(new_database, capsys, arguments):
    with pytest.raises(SystemExit) as exit_:
        main(["seed", *arguments])

    assert exit_.value.code == 2
    assert arguments[0] in capsys.readouterr().err


def test_seed_on_postgresql_after_db_upgrade(postgres_database, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", postgres_database)

    assert main(["db", "upgrade"]) == 0
    assert main(["seed", "--users", "3", "--blogs", "12"]) == 0

    assert _count(postgres_database, User) == 3
    assert _count(postgres_database, Blog) == 12


def test_seed_refuses_a_postgresql_database_that_is_behind(postgres_database, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", postgres_database)

    assert main(["seed", "--users", "1", "--blogs", "1"]) == 1

    assert "blog db upgrade" in capsys.readouterr().err
    with engine_on(postgres_database) as engine:
        assert inspect(engine).get_table_names() == []


# serve


def test_serve_on_a_new_sqlite_file_brings_it_up_to_date_and_serves_the_site(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'served.db'}"
    command = [
        sys.executable, "-c", "import sys; from blog.cli import main; sys.exit(main())", "serve",
    ]  # fmt: skip

    with running_server(tmp_path, database_url, command=command) as url:
        response = httpx2.get(f"{url}/", timeout=10)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")

    with engine_on(database_url) as engine:
        assert current_revision(engine) == newest_revision()


def test_serve_refuses_a_postgresql_database_that_is_behind(postgres_database, monkeypatch, capsys):
    def never_serve(*arguments, **options):
        raise AssertionError("uvicorn started on a database that is behind")

    monkeypatch.setattr(cli.uvicorn, "run", never_serve)
    monkeypatch.setenv("DATABASE_URL", postgres_database)

    assert main(["serve"]) == 1

    assert "blog db upgrade" in capsys.readouterr().err
    with engine_on(postgres_database) as engine:
        assert inspect(engine).get_table_names() == []


def test_serve_passes_host_port_workers_and_reload_to_uvicorn(current_database, monkeypatch):
    calls = []
    monkeypatch.setattr(cli.uvicorn, "run", lambda app, **options: calls.append((app, options)))

    arguments = ["serve", "--host", "127.0.0.2", "--port", "8123", "--workers", "3", "--reload"]
    assert main(arguments) == 0

    [(app, options)] = calls
    assert app == "blog.main:app"
    assert options["host"] == "127.0.0.2"
    assert (options["port"], options["workers"], options["reload"]) == (8123, 3, True)
