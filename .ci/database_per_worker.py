"""A pytest plugin for `make test-postgresql`: each pytest-xdist worker gets a database of its own.

With TEST_BACKEND=postgresql every app in the run uses the one database TEST_DATABASE_URL names,
emptied before each test (tests/conftest.py), so two workers sharing it would empty each other's
tables mid-test. So, before tests/conftest.py reads TEST_DATABASE_URL, each worker makes a new,
empty database on the same server, named after the first and the worker (blog_test_gw0), points
TEST_DATABASE_URL at it, and drops it when it is done. Outside a worker it does nothing.

Loaded with `-p database_per_worker` and `.ci` on PYTHONPATH (see the Makefile).
"""

import os

import pytest
from sqlalchemy import create_engine, make_url

_worker_database = pytest.StashKey[tuple[str, str]]()


def _on_the_server(server_url: str, statement: str) -> None:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    server_url = os.environ.get("TEST_DATABASE_URL")
    if not worker or not server_url:
        return
    url = make_url(server_url)
    name = f"{url.database}_{worker}"
    _on_the_server(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _on_the_server(server_url, f'CREATE DATABASE "{name}"')
    early_config.stash[_worker_database] = (server_url, name)
    os.environ["TEST_DATABASE_URL"] = url.set(database=name).render_as_string(hide_password=False)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _worker_database in config.stash:
        server_url, name = config.stash[_worker_database]
        os.environ["TEST_DATABASE_URL"] = server_url
        _on_the_server(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
