"""Schemathesis against the running API's OpenAPI spec: no input gives a 5xx.

Every operation is called with generated (valid and invalid) data, as an admin (who may
use every route) and, for a share of cases, with no token at all.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.support.accounts import login_as
from tests.support.stack import Stack

pytestmark = pytest.mark.stack


@pytest.fixture
def admin(sqlite_stack: Stack) -> dict[str, str]:
    return login_as(sqlite_stack, "fuzz-admin", "admin")


# Once, on SQLite: the routes' validation does not depend on the database, and the
# database-level refusals are tested on both in tests/unit.
def test_no_input_gives_a_server_error(sqlite_stack: Stack, admin: dict[str, str]) -> None:
    stack = sqlite_stack
    schema = schemathesis.openapi.from_url(f"{stack.api_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    # Every route of the API is in the spec, and each is exercised.
    paths = {op.path for op in operations}
    assert {"/api/auth/token", "/api/supervisor/stats", "/api/tickets/{ticket_id}/form",
            "/api/seats/{seat}/pause", "/metrics", "/api/cases/{ticket_id}/dispatch",
            "/api/cases/{ticket_id}/reply", "/api/inbox", "/api/dispatch/queue",
            "/api/units/{code}"} <= paths
    failures: list[str] = []
    calls: dict[int, int] = {}
    for operation in operations:
        if operation.path.endswith("/spy"):
            continue  # would ring real seats; covered by test_supervision_stack

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            anonymous = sum(calls.values()) % 5 == 4  # every fifth call has no token
            response = case.call(headers=None if anonymous else admin, timeout=30)
            calls[response.status_code] = calls.get(response.status_code, 0) + 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.body!r} -> "
                                f"{response.status_code} {response.text[:300]}")

        run()
    assert not failures, "\n".join(failures)
    # Real exercise: many calls, refused (401, 422) and accepted (200) alike.
    assert sum(calls.values()) > 200 and {200, 401, 422} <= set(calls), calls
