"""Where Asterisk's directories are, inside its Debian-sid root.

Binaries, modules, sounds and music come from the root; etc, run, log, spool and the
AGI scripts live in the project's state dir, which the runner bind-mounts into the root
at the same path, so one path means the same file inside and outside.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.settings import Settings


@dataclass(frozen=True)
class AsteriskLayout:
    root: Path
    base: Path  # <state>/asterisk

    @property
    def etc(self) -> Path:
        return self.base / "etc"

    @property
    def run(self) -> Path:
        return self.base / "run"

    @property
    def log(self) -> Path:
        return self.base / "log"

    @property
    def spool(self) -> Path:
        return self.base / "spool"

    @property
    def lib(self) -> Path:
        return self.base / "lib"

    @property
    def agi_bin(self) -> Path:
        return self.base / "agi-bin"

    @property
    def config_file(self) -> Path:
        return self.etc / "asterisk.conf"

    @property
    def ctl_socket(self) -> Path:
        return self.run / "asterisk.ctl"

    def module_dir(self) -> str:
        """The module dir as seen inside the root (its multiarch triplet varies)."""
        found = sorted(self.root.glob("usr/lib/*/asterisk/modules"))
        if found:
            return "/" + str(found[0].relative_to(self.root))
        return "/usr/lib/asterisk/modules"

    def dirs(self) -> list[Path]:
        return [self.etc, self.run, self.log, self.log / "cdr-csv", self.spool, self.lib,
                self.agi_bin]


def layout_for(settings: Settings) -> AsteriskLayout:
    return AsteriskLayout(root=settings.asterisk_root, base=settings.asterisk_dir)
