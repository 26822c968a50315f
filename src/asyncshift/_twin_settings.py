"""Connection parameters in the async driver's terms: translated, carried, or refused.

A sync URL's query and an engine's ``connect_args`` speak the sync driver's language
(``?sslmode=require`` for psycopg2, ``?ssl_mode=REQUIRED`` for mysqlclient, ``auth_plugin`` for
mysql-connector). Copied verbatim, the twin fails on first connect with ``TypeError: connect()
got an unexpected keyword argument``; dropped, a TLS setting silently gives a twin that talks
plaintext. Here each parameter is carried (the async driver takes it as it is), translated (it
has another name or shape there), or refused with the fix. Transport security is never
weakened: a TLS parameter that cannot be translated is an error, never a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.util import asbool


class UnsupportedDriverError(ValueError):
    """The URL names a database or driver that has no async twin here."""


class UnsupportedSettingError(UnsupportedDriverError):
    """A setting of the sync URL or engine has no safe equivalent on the async driver."""


@dataclass
class Translated:
    query: dict[str, Any] = field(default_factory=dict)  # the twin's URL query
    connect_args: dict[str, Any] = field(default_factory=dict)  # what only a dict can carry
    dropped: list[str] = field(default_factory=list)  # no equivalent, not security: warned


# -- MySQL / MariaDB -> asyncmy, aiomysql ------------------------------------------------------

_MYSQL_ARGS = {
    "init_command", "charset", "connect_timeout", "read_timeout", "autocommit", "sql_mode",
    "local_infile", "max_allowed_packet", "program_name", "binary_prefix", "unix_socket",
    "read_default_file", "read_default_group", "auth_plugin_map", "server_public_key",
    "client_flag", "use_unicode",
}  # fmt: skip
_MYSQL_RENAMED = {"connection_timeout": "connect_timeout", "passwd": "password", "db": "database"}
_MYSQL_TLS_KEYS = {
    "ssl", "ssl_mode", "ssl_ca", "ssl_capath", "ssl_cert", "ssl_key", "ssl_cipher",
    "ssl_check_hostname", "ssl_disabled", "ssl_verify_cert", "ssl_verify_identity",
}  # fmt: skip
_MYSQL_FILE_KEYS = {"ssl_ca": "ca", "ssl_capath": "capath", "ssl_cert": "cert", "ssl_key": "key"}
# Authentication plugins asyncmy negotiates by itself: forcing one is not needed there.
_MYSQL_AUTH_PLUGINS = {"mysql_native_password", "caching_sha2_password", "sha256_password"}


def _mysql_tls(params: Mapping[str, Any], where: str) -> tuple[bool, Any]:
    """(whether TLS is configured at all, the async driver's ``ssl`` value or None for off)."""
    present = {k: v for k, v in params.items() if k in _MYSQL_TLS_KEYS}
    if not present:
        return False, None
    mode = str(present.get("ssl_mode", "")).upper().replace("-", "_")
    if mode == "DISABLED" or asbool(present.get("ssl_disabled", False)):
        return True, None
    raw = present.get("ssl")
    if raw is not None and not isinstance(raw, (dict, bool, str)):
        return True, raw  # an ssl.SSLContext: the async driver takes it as it is
    spec: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
    for key, name in _MYSQL_FILE_KEYS.items():
        if key in present:
            spec[name] = present[key]
    if "ssl_cipher" in present:
        spec["cipher"] = present["ssl_cipher"]
    if "ssl_check_hostname" in present:
        spec["check_hostname"] = asbool(present["ssl_check_hostname"])
    if "ssl_verify_identity" in present:
        spec["check_hostname"] = asbool(present["ssl_verify_identity"])
    if "ssl_verify_cert" in present:
        spec["verify_mode"] = asbool(present["ssl_verify_cert"])
    has_ca = "ca" in spec or "capath" in spec
    if mode == "PREFERRED":
        raise UnsupportedSettingError(
            f"{where}: ssl_mode=PREFERRED (encrypt when the server offers it) has no async "
            "equivalent: asyncmy either requires TLS or does not use it, and a twin must never "
            "talk plaintext where the original would encrypt. Choose ssl_mode=REQUIRED (or "
            "VERIFY_CA/VERIFY_IDENTITY with ssl_ca) if the server has TLS, DISABLED if not."
        )
    if mode in ("VERIFY_CA", "VERIFY_IDENTITY") and not has_ca:
        raise UnsupportedSettingError(
            f"{where}: ssl_mode={mode} without ssl_ca/ssl_capath: the async driver would not "
            "verify the server's certificate. Add ssl_ca=<the CA file> to the URL or "
            "connect_args."
        )
    if mode == "VERIFY_CA":
        spec["check_hostname"] = False
    if mode == "VERIFY_IDENTITY":
        spec["check_hostname"] = True
    if not has_ca and "verify_mode" not in spec:
        spec.setdefault("check_hostname", False)  # REQUIRED: encrypted, not verified
    return True, spec or {"check_hostname": False}  # an empty dict would mean "no TLS"


def _mysql(
    sync_driver: str | None, query: Mapping[str, Any], args: Mapping[str, Any]
) -> Translated:
    out = Translated()
    for origin, params in (("the URL", query), ("connect_args", args)):
        configured, ssl = _mysql_tls(params, f"{origin} of the sync engine")
        if configured and ssl is not None:
            if origin == "the URL" and isinstance(ssl, dict) and "verify_mode" not in ssl:
                for key, name in _MYSQL_FILE_KEYS.items():  # SQLAlchemy reads these from a URL
                    if name in ssl:
                        out.query[key] = ssl[name]
                if "cipher" in ssl:
                    out.query["ssl_cipher"] = ssl["cipher"]
                if "check_hostname" in ssl:
                    out.query["ssl_check_hostname"] = str(ssl["check_hostname"]).lower()
            else:
                out.connect_args["ssl"] = ssl
        for key, value in params.items():
            if key in _MYSQL_TLS_KEYS:
                continue
            name = _MYSQL_RENAMED.get(key, key)
            if key == "auth_plugin":
                if str(value) in _MYSQL_AUTH_PLUGINS:
                    continue  # asyncmy negotiates this plugin itself
                raise UnsupportedSettingError(
                    f"{origin} of the sync engine: auth_plugin={value!r} (mysql-connector) has "
                    f"no asyncmy equivalent; asyncmy negotiates {sorted(_MYSQL_AUTH_PLUGINS)}. "
                    "Use one of them for this account, or create the async engine yourself."
                )
            if name in _MYSQL_ARGS:
                (out.query if origin == "the URL" else out.connect_args)[name] = value
            else:
                _refuse_or_drop(out, origin, key, sync_driver, "asyncmy", _MYSQL_ARGS)
    return out


# -- PostgreSQL psycopg2, pg8000 -> asyncpg -------------------------------------------------------

_ASYNCPG_ARGS = {
    "timeout", "command_timeout", "server_settings", "ssl", "statement_cache_size",
    "target_session_attrs", "prepared_statement_cache_size", "direct_tls",
    "max_cached_statement_lifetime", "max_cacheable_statement_size", "passfile",
}  # fmt: skip
_LIBPQ_SSL_VALUES = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}
_LIBPQ_FILES = {"sslrootcert", "sslcert", "sslkey", "sslcrl", "sslpassword", "sslcrldir"}


def _server_settings(origin: str, key: str, value: Any) -> dict[str, str]:
    if key == "application_name":
        return {"application_name": str(value)}
    settings: dict[str, str] = {}
    tokens = str(value).replace("-c ", "-c").split()
    for token in tokens:  # libpq `options`: "-c search_path=app -c statement_timeout=5000"
        if not token.startswith("-c") or "=" not in token:
            raise UnsupportedSettingError(
                f"{origin} of the sync engine: options={value!r} is not a list of `-c name=value` "
                "settings, the only form asyncpg can take (as server_settings). Pass "
                "connect_args={'server_settings': {...}} to async_engine_from()."
            )
        name, _, setting = token[2:].partition("=")
        settings[name] = setting
    return settings


def _asyncpg(
    sync_driver: str | None, query: Mapping[str, Any], args: Mapping[str, Any]
) -> Translated:
    out = Translated()
    for origin, params in (("the URL", query), ("connect_args", args)):
        for key, value in params.items():
            if key in _LIBPQ_FILES:
                raise UnsupportedSettingError(
                    f"{origin} of the sync engine: {key} has no asyncpg connect() argument "
                    "(asyncpg reads certificate files only from a DSN or the PGSSL* environment "
                    "variables), and dropping it would weaken the twin's TLS. Build an "
                    "ssl.SSLContext (ssl.create_default_context(cafile=...), load_cert_chain(...)) "
                    "and pass async_engine_from(engine, connect_args={'ssl': context})."
                )
            if key in ("sslmode", "ssl"):
                if str(value) not in _LIBPQ_SSL_VALUES and key == "sslmode":
                    raise UnsupportedSettingError(
                        f"{origin} of the sync engine: sslmode={value!r} is not one of "
                        f"{sorted(_LIBPQ_SSL_VALUES)}"
                    )
                (out.query if origin == "the URL" and isinstance(value, str) else out.connect_args)[
                    "ssl"
                ] = value
            elif key == "ssl_context":  # pg8000
                out.connect_args["ssl"] = value
            elif key in ("connect_timeout", "timeout"):
                out.connect_args["timeout"] = float(value)  # asyncpg wants a number
            elif key in ("application_name", "options"):
                settings = out.connect_args.setdefault("server_settings", {})
                settings.update(_server_settings(origin, key, value))
            elif key in _ASYNCPG_ARGS:
                if origin == "the URL" and key not in ("target_session_attrs", "ssl", "passfile"):
                    out.connect_args[key] = value if not isinstance(value, str) else _number(value)
                else:
                    (out.query if origin == "the URL" else out.connect_args)[key] = value
            elif origin == "the URL" and key == "host":
                out.query[key] = value  # multi-host URLs: SQLAlchemy's asyncpg dialect reads them
            else:
                _refuse_or_drop(out, origin, key, sync_driver, "asyncpg", _ASYNCPG_ARGS)
    return out


def _number(value: str) -> Any:
    try:
        return int(value)
    except ValueError:
        return float(value)


# -- shared ---------------------------------------------------------------------------------------


def _security_related(key: str) -> bool:
    return key.lower().startswith(
        ("ssl", "tls", "gss", "krb", "auth", "require", "channel_binding")
    )


def _refuse_or_drop(
    out: Translated,
    origin: str,
    key: str,
    sync_driver: str | None,
    async_driver: str,
    accepted: set[str],
) -> None:
    if origin == "the URL" or _security_related(key):
        what = "a TLS/authentication setting" if _security_related(key) else "a URL parameter"
        raise UnsupportedSettingError(
            f"{origin} of the sync engine: {key!r} is {what} of {sync_driver or 'the default'} "
            f"driver that {async_driver} has no equivalent for; copied, the twin would fail on "
            f"connect, and dropped it would behave differently"
            + (" (weaker transport security)" if _security_related(key) else "")
            + f". {async_driver} takes: {', '.join(sorted(accepted))}. Remove it from the URL "
            "given to async_url(), or create the async engine with the arguments you mean."
        )
    out.dropped.append(key)


def translate(
    backend: str,
    sync_driver: str | None,
    async_driver: str,
    query: Mapping[str, Any],
    connect_args: Mapping[str, Any],
) -> Translated:
    """The async driver's query and connect_args for what the sync side was given."""
    if async_driver in ("asyncmy", "aiomysql") and sync_driver not in ("asyncmy", "aiomysql"):
        return _mysql(sync_driver, query, connect_args)
    if async_driver == "asyncpg" and sync_driver != "asyncpg":
        return _asyncpg(sync_driver, query, connect_args)
    # The same driver in async mode (psycopg 3), sqlite3 under aiosqlite, or already async.
    return Translated(dict(query), dict(connect_args))
