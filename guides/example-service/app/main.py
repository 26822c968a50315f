from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from app import database, models
from app.db_context import DBSessionMiddleware
from app.routers import items, reports, tags, users
from app.services import NotAllowed


def create_app() -> FastAPI:
    app = FastAPI(title="Example service", version="1.4.0")
    app.add_middleware(DBSessionMiddleware)

    app.include_router(users.router)
    app.include_router(items.router)
    app.include_router(tags.router)
    app.include_router(reports.router, prefix="/admin")

    @app.on_event("startup")
    def create_tables() -> None:
        models.Base.metadata.create_all(bind=database.engine)

    @app.exception_handler(NotAllowed)
    def not_allowed(request: Request, exc: NotAllowed) -> JSONResponse:
        return JSONResponse(status_code=403, content={"detail": str(exc)})

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


app = create_app()
