"""A pytest plugin for `make test-sqlite`: coverage follows the pytest-xdist workers, and only them.

`coverage run -m pytest -n 2` with `patch = ["subprocess"]` (pyproject.toml) measures each
Python process started under it from its first line. The workers must be measured so: pytest-cov
starts in a worker only after tests/conftest.py has imported the blog, so every module-level line
would count as missed. The servers that some tests start must not be: measured, they run slower
and hold on to objects longer than they ever do in production, and the tests of timing and of
connections being let go (a read-only SQLite connection outliving its request) fail for that
alone. So each worker, once started, takes coverage's variables out of its environment before
any test runs, and the processes it starts run unmeasured. In one process (`-n 0`) the same
holds for pytest itself.

Loaded with `-p coverage_in_workers` and `.ci` on PYTHONPATH (see the Makefile).
"""

import os

import pytest

COVERAGE_VARIABLES = ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    is_worker = hasattr(config, "workerinput")
    # pytest-xdist sets dist from "no" to "load" when it will start workers (-n 2); they are
    # started after pytest_configure and must still find the variables.
    starts_workers = not is_worker and getattr(config.option, "dist", "no") != "no"
    if not starts_workers:
        for name in COVERAGE_VARIABLES:
            os.environ.pop(name, None)
