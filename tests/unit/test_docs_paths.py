"""The README and docs/ name only files and folders that exist: a stale path misleads a
newcomer more than a missing one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.settings import PROJECT_DIR

PAGES = [PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").glob("*.md"))]
TOP = {p.name for p in PROJECT_DIR.iterdir() if not p.name.startswith(".")}
# `like/this.py` or `like/this/` in backticks, starting at a top-level folder of the repo.
PATH = re.compile(r"`([a-z_][\w.-]*/[\w./*-]*)`")
GENERATED = (".hotline", "test-artifacts")


def named_paths(page: Path) -> list[str]:
    found = []
    for match in PATH.finditer(page.read_text()):
        path = match.group(1).rstrip("/")
        if path.split("/")[0] in TOP and "*" not in path and not path.startswith(GENERATED):
            found.append(path)
    return found


def test_the_pages_name_paths_at_all() -> None:
    assert len(named_paths(PROJECT_DIR / "README.md")) > 20


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_path_a_page_names_exists(page: Path) -> None:
    missing = [path for path in named_paths(page) if not (PROJECT_DIR / path).exists()]
    assert not missing, f"{page.name} names missing paths: {missing}"


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    links = [m.group(1) for m in LINK.finditer(page.read_text())
             if not m.group(1).startswith(("http:", "https:", "mailto:"))]
    missing = [link for link in links if not (page.parent / link).exists()]
    assert not missing, f"{page.name} links to missing files: {missing}"


PACKAGES = ["hotline", "agi", "supervision", "seats", "transcription", "ivr_flows", "casework",
            "acd", "tickets", "units", "deadlines", "screening", "accounts", "asterisk_conf",
            "infra"]


def test_the_architecture_page_lists_every_module() -> None:
    listed = set(named_paths(PROJECT_DIR / "docs" / "architecture.md"))
    modules = {str(path.relative_to(PROJECT_DIR)) for package in PACKAGES
               for path in (PROJECT_DIR / package).rglob("*.py")
               if path.name not in ("__init__.py", "__main__.py")
               and "migrations/versions" not in str(path)}
    assert modules - listed == set(), "add these to docs/architecture.md"
