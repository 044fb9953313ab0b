"""Which agents may take a call, and how soon: the routing rules, as data.

- The general 12345 line: skill `general`, priority 0.
- The enterprise line (涉企专席, 四优先): priority 10; its own agents (skill `enterprise`)
  first, then the general pool after `overflow_s`.
- A legacy department number: agents with that department's skill first, then the
  general pool after `overflow_s` (the department is only a hint).
- An expert queue (专家座席), reached by transfer: skill `expert_<department>`, no overflow.
- A transfer (blind, or the consultation of an attended one) to an expert queue or to one
  agent (skill `agent_<seat>`, which every agent has): priority 20, and the general pool
  after `transfer_overflow_s`, so a caller is never stranded behind an empty queue.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.settings import Settings

GENERAL = "general"
ENTERPRISE = "enterprise"
ENTERPRISE_PRIORITY = 10
EXPERT_PRIORITY = 20


@dataclass(frozen=True)
class Routing:
    queue: str
    priority: int
    skills: tuple[str, ...]
    overflow_skills: tuple[str, ...] = ()
    overflow_after_s: float = 0.0


def route_call(dialled: str, department_hint: str | None, settings: Settings) -> Routing:
    if dialled in settings.enterprise_numbers.split(","):
        return Routing("enterprise", ENTERPRISE_PRIORITY, (ENTERPRISE,), (GENERAL,),
                       settings.overflow_s)
    if department_hint:
        return Routing(GENERAL, 0, (department_hint,), (GENERAL,), settings.overflow_s)
    return Routing(GENERAL, 0, (GENERAL,))


def expert_routing(department: str) -> Routing:
    return Routing(f"expert_{department}", EXPERT_PRIORITY, (f"expert_{department}",))


def transfer_routing(target: str, settings: Settings) -> Routing:
    """`expert:<department>` or `agent:<seat>` (what the dialplan's transfer codes give)."""
    kind, _, name = target.partition(":")
    if not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ValueError(f"bad transfer target {target!r}")
    if kind == "expert":
        skill = f"expert_{name}"
    elif kind == "agent":
        skill = f"{AGENT_SKILL_PREFIX}{name}"
    else:
        raise ValueError(f"bad transfer target {target!r}")
    return Routing(skill, EXPERT_PRIORITY, (skill,), (GENERAL,), settings.transfer_overflow_s)


SKILLS_FORM = "name:level pairs separated by commas, e.g. general:1,tax:5"
# Every agent has the skill agent_<seat> implicitly (acd/lua/lib.lua agent_skills).
AGENT_SKILL_PREFIX = "agent_"
MAX_LEVEL = 99


def parse_skills(text: str) -> dict[str, int]:
    """"general:1,tax:5" -> {"general": 1, "tax": 5}; a bare name has level 1.

    A ValueError's text goes to the agent as it is (the seat API's 422, the CLI's message):
    it names the bad part and the expected form, in plain words.
    """
    skills: dict[str, int] = {}
    for item in text.split(","):
        name, colon, level = item.strip().partition(":")
        name, level = name.strip(), level.strip()
        if not name:
            if colon or level:
                raise ValueError(f"skill {item.strip()!r} has no name; write {SKILLS_FORM}")
            continue
        # agent_<seat> is the skill a transfer to that one agent routes by: an agent who
        # claimed another's would take the calls being transferred to them.
        if name.startswith(AGENT_SKILL_PREFIX):
            raise ValueError(f"skill names starting with {AGENT_SKILL_PREFIX!r} are the "
                             f"system's own: {name!r}; write {SKILLS_FORM}")
        if not all(c.isalnum() or c in "_-" for c in name):
            raise ValueError(f"skill name {name!r} may hold only letters, digits, _ and -; "
                             f"write {SKILLS_FORM}")
        # Not int() alone: its error text is Python's, and it takes "+5", " 5" and "1_0".
        if level and not (level.isascii() and level.isdigit()):
            raise ValueError(f"skill level must be a whole number from 1 to {MAX_LEVEL}: "
                             f"{item.strip()!r}; write {SKILLS_FORM}")
        value = int(level) if level else 1
        if not 1 <= value <= MAX_LEVEL:
            raise ValueError(f"skill level must be a whole number from 1 to {MAX_LEVEL}: "
                             f"{item.strip()!r}; write {SKILLS_FORM}")
        skills[name] = value
    if not skills:
        raise ValueError(f"an agent needs at least one skill; write {SKILLS_FORM}")
    return skills


def format_skills(skills: dict[str, int]) -> str:
    return ",".join(f"{name}:{level}" for name, level in skills.items())
