"""The responsible units (承办单位): the five-level directory an operator ships as a data file.

- `units/directory.py`: `Unit`, the five `LEVELS`, `Directory` (lookups, children, the
  precomputed subtrees) and `load_directory`, which checks a units CSV whole.
- `units/dispatch.py`: the dispatch directory, taxonomy item -> unit, checked against the
  directory (`build_dispatch`, `read_dispatch_items`).
- `units/data/units.csv`: the shipped directory, plausible Jinan data (see docs/units.md).

Standard library only; `units` imports no other domain (the taxonomy file is read here as
plain CSV, not through `tickets`).
"""
