import pymysql

from tests.support.mariadb import DATABASE, PASSWORD, USER, MariaDB


def test_private_server_accepts_the_test_account_over_tcp(mariadb: MariaDB) -> None:
    conn = pymysql.connect(
        host=mariadb.host, port=mariadb.port, user=USER, password=PASSWORD, database=DATABASE
    )
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            (version,) = cur.fetchone()
        assert "MariaDB" in version
        assert conn.thread_id() in mariadb.connection_ids()
    finally:
        conn.close()
