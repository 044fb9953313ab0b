"""ruff and mypy are part of the suite, so CI fails on a lint or type error."""

from __future__ import annotations

import subprocess
import sys

import pytest

from infra.settings import PROJECT_DIR


@pytest.mark.parametrize("tool", [["ruff", "check", "."], ["mypy", "."]],
                         ids=["ruff", "mypy"])
def test_clean(tool: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", *tool], cwd=PROJECT_DIR,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
