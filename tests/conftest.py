from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_mysql import factories
from pytest_mysql.executor import MySQLExecutor

from tests.support.mariadb import MariaDB, binary

mariadb_proc = factories.mysql_proc(
    mysqld_exec=binary("mariadbd", "mysqld"),  # type: ignore[arg-type]
    mysqld_safe=binary("mariadbd-safe", "mysqld_safe"),  # type: ignore[arg-type]
    admin_executable=binary("mariadb-admin", "mysqladmin"),
    install_db=binary("mariadb-install-db", "mysql_install_db"),
    host="127.0.0.1",
    port=None,
    # Small buffers keep the server light on a 2-core CI machine; many connections let the
    # concurrency tests exhaust *pools*, never the server.
    params="--skip-name-resolve --innodb-buffer-pool-size=64M --max-connections=500",
)


@pytest.fixture(scope="session")
def mariadb(mariadb_proc: MySQLExecutor) -> Iterator[MariaDB]:
    server = MariaDB(host="127.0.0.1", port=mariadb_proc.port, unix_socket=mariadb_proc.unixsocket)
    server.prepare()
    yield server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
