"""The tree's layers and boundaries, as import-linter contracts (pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from infra.settings import PROJECT_DIR

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    argv = [str(LINT_IMPORTS), "--no-cache"]
    if config is not None:
        argv += ["--config", str(config)]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_project_keeps_every_import_contract() -> None:
    done = _lint(PROJECT_DIR)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
    # Every contract ran (a contract that silently failed to load would not be listed).
    for name in ("Layers:", "never import the HTTP layer", "fallback AGI script",
                 "Core domains are independent", "Feature domains are independent"):
        assert name in done.stdout, done.stdout


def _package(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def test_closed_imports_catches_a_third_party_import_deep_in_the_closure(tmp_path: Path) -> None:
    # script -> lib.store -> lib.helpers -> yaml: two hops down, not in the allowed list.
    _package(tmp_path, {
        "script/__init__.py": "",
        "script/main.py": "import asterisk.agi\nfrom lib.store import save\n",
        "lib/__init__.py": "",
        "lib/store.py": "import json\nimport sqlalchemy\nfrom lib.helpers import tidy\n",
        "lib/helpers.py": "import os\n\ndef tidy():\n    import yaml\n",
        "lib/unused.py": "import redis\n",  # not imported by the script: not checked
    })
    config = tmp_path / ".importlinter"
    config.write_text(textwrap.dedent("""\
        [importlinter]
        root_packages =
            script
            lib
        include_external_packages = True
        contract_types =
            closed_imports: tests.contracts.closed_imports.ClosedImportsContract

        [importlinter:contract:fallback]
        name = closed
        type = closed_imports
        source = script.main
        allowed_external = sqlalchemy
        allowed_in_source = asterisk
        """))
    env_path = f"{tmp_path}:{PROJECT_DIR}"
    done = subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(config)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "lib.helpers imports yaml" in done.stdout
    assert "redis" not in done.stdout and "asterisk" not in done.stdout.split("BROKEN")[-1]
