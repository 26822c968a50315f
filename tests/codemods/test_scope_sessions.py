"""Step 1, scope-sessions: silent cases first."""

from __future__ import annotations

from tests.codemods.steps import check_noop, check_transformed, reports

STEP = "scope-sessions"


def test_silent_without_registries_and_for_request_scoped_ones() -> None:
    check_noop(
        STEP,
        {
            "app.py": """\
            from fastapi import FastAPI
            from sqlalchemy.orm import sessionmaker
            SessionLocal = sessionmaker()
            app = FastAPI()
            """
        },
    )
    check_noop(
        STEP,
        {
            "app.py": """\
            from fastapi import FastAPI
            from sqlalchemy.orm import sessionmaker
            from asyncshift import SessionScopeMiddleware, request_scoped_session
            Session = request_scoped_session(sessionmaker())
            app = FastAPI()
            app.add_middleware(SessionScopeMiddleware)
            """
        },
    )


def test_silent_for_custom_scopes_local_registries_and_test_suites() -> None:
    files = {
        "db.py": """\
        from contextvars import ContextVar
        from sqlalchemy.orm import scoped_session, sessionmaker
        key: ContextVar[str] = ContextVar("key")
        Session = scoped_session(sessionmaker(), scopefunc=key.get)

        def job():
            registry = scoped_session(sessionmaker())
            registry.remove()
        """,
        "tests/factories.py": """\
        from sqlalchemy.orm import scoped_session, sessionmaker
        TestSession = scoped_session(sessionmaker())
        """,
    }
    check_noop(STEP, files)
    assert reports(STEP, files) == [
        "db.py: line 4: scoped_session with its own scopefunc: already scoped, left alone",
        "db.py: line 7: scoped_session made inside a function: nothing outlives the call, "
        "left alone",
    ]


def test_registries_become_request_scoped_keeping_names_comments_and_layout() -> None:
    check_transformed(
        STEP,
        {
            "database.py": """\
            import threading
            from sqlalchemy import orm
            from sqlalchemy.orm import scoped_session, sessionmaker

            SessionLocal = sessionmaker()
            # the session the reports have always used
            ScopedSession = scoped_session(SessionLocal)  # one per thread
            Other = orm.scoped_session(
                SessionLocal,
                scopefunc=threading.get_ident,
            )


            def teardown():
                ScopedSession.close()
            """
        },
        {
            "database.py": """\
            from sqlalchemy.orm import sessionmaker
            from asyncshift import request_scoped_session

            SessionLocal = sessionmaker()
            # the session the reports have always used
            ScopedSession = request_scoped_session(SessionLocal)  # one per thread
            Other = request_scoped_session(
                SessionLocal,
            )


            def teardown():
                ScopedSession.remove()
            """
        },
    )


def test_the_middleware_is_added_last_to_module_apps_and_factories() -> None:
    check_transformed(
        STEP,
        {
            "db.py": """\
            from sqlalchemy.orm import scoped_session, sessionmaker
            Session = scoped_session(sessionmaker())
            """,
            "main.py": """\
            from fastapi import FastAPI
            from fastapi.middleware.cors import CORSMiddleware


            def create_app() -> FastAPI:
                app = FastAPI(title="x")
                app.add_middleware(CORSMiddleware, allow_origins=["*"])
                app.add_middleware(
                    CORSMiddleware,
                )

                @app.get("/")
                def root():
                    return {}

                return app


            admin = FastAPI()
            """,
        },
        {
            "db.py": """\
            from sqlalchemy.orm import sessionmaker
            from asyncshift import request_scoped_session
            Session = request_scoped_session(sessionmaker())
            """,
            "main.py": """\
            from fastapi import FastAPI
            from fastapi.middleware.cors import CORSMiddleware
            from asyncshift import SessionScopeMiddleware


            def create_app() -> FastAPI:
                app = FastAPI(title="x")
                app.add_middleware(CORSMiddleware, allow_origins=["*"])
                app.add_middleware(
                    CORSMiddleware,
                )
                app.add_middleware(SessionScopeMiddleware)

                @app.get("/")
                def root():
                    return {}

                return app


            admin = FastAPI()
            admin.add_middleware(SessionScopeMiddleware)
            """,
        },
    )


def test_an_app_without_a_name_is_reported() -> None:
    files = {
        "main.py": """\
        from fastapi import FastAPI
        from sqlalchemy.orm import scoped_session, sessionmaker
        Session = scoped_session(sessionmaker())

        def create_app():
            return FastAPI()
        """
    }
    assert reports(STEP, files) == [
        "main.py: line 6: an app made without a name: add "
        "`app.add_middleware(SessionScopeMiddleware)` by hand, after every other add_middleware"
    ]
