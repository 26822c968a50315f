"""A private MariaDB server for the test session.

pytest-mysql starts and stops the server process (own datadir and unix socket under a temp
folder, 127.0.0.1 on a free port). MariaDB's root account authenticates by unix socket, so the
server is set up over the socket: one database and one password account that the tests use
over TCP, the way a service does.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import pymysql

DATABASE = "asyncshift_test"
USER = "asyncshift"
PASSWORD = "asyncshift"


def binary(*names: str) -> str:
    for name in names:
        path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
        if path:
            return path
    raise RuntimeError(
        f"none of {', '.join(names)} is installed. The README's test command installs MariaDB "
        "with apt-get when `mariadbd` is missing; run it, or install mariadb-server yourself."
    )


@dataclass(frozen=True)
class MariaDB:
    host: str
    port: int
    unix_socket: str

    def url(self, driver: str = "pymysql") -> str:
        return f"mysql+{driver}://{USER}:{PASSWORD}@{self.host}:{self.port}/{DATABASE}"

    @property
    def sync_url(self) -> str:
        return self.url("pymysql")

    @property
    def async_url(self) -> str:
        return self.url("asyncmy")

    def admin(self) -> pymysql.connections.Connection:  # type: ignore[type-arg]
        """A root connection over the unix socket, for killing or inspecting connections."""
        return pymysql.connect(unix_socket=self.unix_socket, user="root", autocommit=True)

    def prepare(self) -> None:
        conn = self.admin()
        try:
            with conn.cursor() as cur:
                cur.execute(f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
                for host in ("127.0.0.1", "localhost"):
                    cur.execute(
                        f"CREATE USER IF NOT EXISTS '{USER}'@'{host}' IDENTIFIED BY '{PASSWORD}'"
                    )
                    cur.execute(f"GRANT ALL ON *.* TO '{USER}'@'{host}'")
        finally:
            conn.close()

    def connection_ids(self) -> set[int]:
        """Ids of the test user's connections the server holds now."""
        conn = self.admin()
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT id FROM information_schema.processlist WHERE user = %s", (USER,)
                )
                return {row[0] for row in cur.fetchall()}
        finally:
            conn.close()
