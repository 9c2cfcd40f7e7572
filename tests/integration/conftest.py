"""Fixtures shared by the integration tests: the binary under test, pools
of servers that are stopped, and checked for a clean exit, at the end, and
the document root and server most modules use.

root writes the module's FILES ({relative path: bytes}) into a fresh
directory, all with the module's MTIME as their modification time when it
sets one; srv is one server on that root shared by the module's tests. A
module that needs another root or server defines its own fixture of that
name."""

import os
import socket

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


@pytest.fixture(scope="module")
def root(request, tmp_path_factory):
    """The module's FILES under a new directory (see the docstring above)."""
    module = request.module
    root = tmp_path_factory.mktemp(module.__name__.removeprefix("test_")) / "root"
    rhtest.write_files(root, module.FILES)
    mtime = getattr(module, "MTIME", None)
    if mtime is not None:
        for name in module.FILES:
            os.utime(root / name, (mtime, mtime))
    return root


@pytest.fixture(scope="module")
def srv(module_servers, root):
    """One server on root for the tests of a module."""
    return module_servers.start(root)


@pytest.fixture
def taken_port():
    """A loopback port on which another socket listens."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]
