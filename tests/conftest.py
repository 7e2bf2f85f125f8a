"""Fixtures shared by the test modules; keep this file small."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from compiler.engine import connect


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh in-memory DuckDB connection with the compiled SQL's PRELUDE macros."""
    connection = connect()
    yield connection
    connection.close()
