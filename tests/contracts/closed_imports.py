"""An import-linter contract: what a module pulls in, transitively, may use only the standard
library and a list of allowed external packages.

The fallback AGI script runs inside the Asterisk root, whose Python has the standard library,
SQLAlchemy, psycopg2 and pyst2, nothing else. The modules it imports are found from the import
graph, not listed by hand, so a new import anywhere under them is checked too.
"""

from __future__ import annotations

import sys

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


def _ancestors(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


class ClosedImportsContract(Contract):
    """Options:
    - ``source``: the module whose whole import closure is checked;
    - ``allowed_external``: external top-level packages any module of the closure may import;
    - ``allowed_in_source``: external packages only the source itself may import.
    """

    source = fields.StringField()
    allowed_external = fields.ListField(subfield=fields.StringField())
    allowed_in_source = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        source = str(self.source)
        allowed: set[str] = {str(name) for name in self.allowed_external}  # type: ignore[attr-defined]
        allowed_here: set[str] = {
            str(name) for name in (self.allowed_in_source or [])}  # type: ignore[union-attr]
        closure = {source} | set(graph.find_upstream_modules(source))
        # Importing a.b.c runs a/__init__.py and a/b/__init__.py too.
        closure |= {parent for module in list(closure) for parent in _ancestors(module)}
        internal = {m for m in closure if not graph.is_module_squashed(m)} \
            if hasattr(graph, "is_module_squashed") else closure
        broken: list[dict[str, object]] = []
        for module in sorted(internal):
            if module not in graph.modules:
                continue
            for imported in sorted(graph.find_modules_directly_imported_by(module)):
                top = imported.split(".")[0]
                if top in sys.stdlib_module_names or top in allowed:
                    continue
                if module == source and top in allowed_here:
                    continue
                if imported in internal:  # the project's own modules: checked in their turn
                    continue
                details = graph.get_import_details(importer=module, imported=imported)
                lines = sorted({int(d["line_number"]) for d in details})
                broken.append({"importer": module, "imported": imported, "lines": lines})
        return ContractCheck(kept=not broken, metadata={"broken": broken,
                                                        "closure": sorted(internal)})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for item in check.metadata["broken"]:
            lines = ", ".join(str(n) for n in item["lines"])  # type: ignore[attr-defined]
            output.print_error(f"{item['importer']} imports {item['imported']} (l. {lines})")
        output.new_line()
