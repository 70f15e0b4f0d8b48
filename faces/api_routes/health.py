"""Health routes: open to all, for load balancers and orchestrators."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from faces.api_routes.services import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/v1/health")
def health() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/v1/ready")
def ready(services: ServicesDep) -> JSONResponse:
    """The database and the knowledge index can be used (503 with the reason otherwise)."""
    problems = []
    try:
        with services.ws.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception as exc:
        problems.append(f"database: {type(exc).__name__}")
    try:
        services.ws.kb.stats()
    except Exception as exc:
        problems.append(f"knowledge index: {type(exc).__name__}")
    if problems:
        return JSONResponse({"status": "unavailable", "problems": problems}, status_code=503)
    return JSONResponse({"status": "ready"})
