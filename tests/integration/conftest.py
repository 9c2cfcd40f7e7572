"""Fixtures shared by the integration tests: the binary under test and pools
of servers that are stopped, and checked for a clean exit, at the end."""

import os

import pytest

import rhtest


@pytest.fixture(scope="session")
def binary():
    path = os.environ.get("RINGHTTPD")
    if not path or not os.access(path, os.X_OK):
        pytest.fail(f"RINGHTTPD must name the built server binary (it is {path!r})")
    return path


@pytest.fixture
def servers(binary, tmp_path):
    """Servers for one test."""
    pool = rhtest.ServerPool(binary, tmp_path)
    yield pool
    pool.stop_all()


@pytest.fixture(scope="module")
def module_servers(binary, tmp_path_factory):
    """Servers shared by the tests of one module."""
    pool = rhtest.ServerPool(binary, tmp_path_factory.mktemp("servers"))
    yield pool
    pool.stop_all()
