"""What a workflow action refuses, each in words a user can read (Chinese, then English).

The API maps them to HTTP: CaseNotFound 404, NotAllowed 403, IllegalTransition (stages.py)
and VersionConflict 409, BadRequest 422.
"""

from __future__ import annotations


class CaseworkError(Exception):
    """Base of every refusal; ``str()`` is the message shown to the user."""


class CaseNotFound(CaseworkError):
    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"没有工单 {ticket_id} (no ticket {ticket_id})")
        self.ticket_id = ticket_id


class NotAllowed(CaseworkError):
    """The user's role or unit may not do this."""


class VersionConflict(CaseworkError):
    def __init__(self, ticket_id: str, version: int) -> None:
        super().__init__(
            f"工单 {ticket_id} 已被他人修改（现为第 {version} 版），请刷新后重试 "
            f"(ticket {ticket_id} was changed by someone else; it is now version {version}: "
            "reload it and try again)")
        self.version = version


class BadRequest(CaseworkError):
    """A value the action cannot use: an unknown unit, an empty reason, a note too long."""
