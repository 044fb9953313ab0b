"""Refused input in plain words: FastAPI's validation errors (a list of dicts naming
Pydantic's internals) become one sentence, Chinese then English, naming each field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


def plain_words(errors: Sequence[Any]) -> str:
    """``请求有误 (invalid request): body.reason: String should have at least 1 character``."""
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "request"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "请求有误 (invalid request): " + "; ".join(parts)


def install_plain_validation_errors(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def plain(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": plain_words(exc.errors())},
                            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)
