"""The units directory, read-only: the desk's unit picker, a unit's 下派 choices, and units'
own systems look codes up here."""

# No `from __future__ import annotations`: FastAPI resolves the signatures at run time.

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException

from accounts.auth import Auth
from accounts.tokens import Principal
from hotline.casework_rules import directory
from infra.settings import Settings
from units.directory import LEVELS, Unit


def unit_out(unit: Unit) -> dict[str, Any]:
    level = LEVELS[unit.level]
    return {"code": unit.code, "name": unit.name, "name_en": unit.name_en,
            "parent": unit.parent, "level": unit.level, "level_name": level.zh,
            "level_name_en": level.en}


def router(auth: Auth, settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/api/units", tags=["units"])
    Anyone = Annotated[Principal, Depends(auth.require(
        "agent", "supervisor", "dispatcher", "unit"))]
    units = directory(settings)

    @api.get("")
    async def list_units(_: Anyone) -> list[dict[str, Any]]:
        """Every unit, parents before children."""
        return [unit_out(u) for u in sorted(units.units(), key=lambda u: u.level)]

    @api.get("/{code}", responses={404: {"description": "no such unit"}})
    async def get_unit(code: str, _: Anyone) -> dict[str, Any]:
        """One unit, its path from the city down, and its child units."""
        unit = units.get(code)
        if unit is None:
            raise HTTPException(404, f"没有承办单位 {code!r} (no unit {code!r})")
        return {**unit_out(unit), "path": units.path_names(code),
                "children": [unit_out(c) for c in units.children(code)]}

    return api
