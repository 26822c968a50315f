"""Start a throw-away MariaDB server for a benchmark run, the same way the tests do."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pytest_mysql.executor import MySQLExecutor

from tests.support.mariadb import MariaDB, binary
from tests.support.server import free_port


@contextmanager
def private_mariadb() -> Iterator[MariaDB]:
    with tempfile.TemporaryDirectory(prefix="asyncshift-bench-") as tmp:
        port = free_port()
        executor = MySQLExecutor(
            mysqld_safe=Path(binary("mariadbd-safe", "mysqld_safe")),
            mysqld=Path(binary("mariadbd", "mysqld")),
            admin_exec=binary("mariadb-admin", "mysqladmin"),
            logfile_path=f"{tmp}/server.log",
            params="--skip-name-resolve --innodb-buffer-pool-size=64M --max-connections=500",
            base_directory=Path(tmp),
            user="root",
            host="127.0.0.1",
            port=port,
            install_db=binary("mariadb-install-db", "mysql_install_db"),
        )
        with executor:
            server = MariaDB(host="127.0.0.1", port=port, unix_socket=executor.unixsocket)
            server.prepare()
            yield server
