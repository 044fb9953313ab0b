"""All of the hotline's settings, in one place.

Standard library only: the pyst2 fallback script imports this module inside the Asterisk
root, whose Python has no third-party packages beyond SQLAlchemy and psycopg2.

Every field can be overridden by an environment variable ``HOTLINE_<FIELD>`` (upper case).
Paths inside the state directory are the same inside and outside the Asterisk root,
because the runner bind-mounts the project and state directories at their own paths.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Legacy department hotlines merged into 12345: dialled number -> department skill.
# The dialled number (DNIS) tells which department the caller had in mind.
DEFAULT_LEGACY_NUMBERS: dict[str, str] = {
    "12319": "urban_management",  # 城管热线
    "96166": "water",  # 供水
    "96777": "gas",  # 燃气
    "12315": "market_regulation",  # 消费者投诉
    "12333": "social_security",  # 人社
    "12366": "tax",  # 税务
    "96123": "housing",  # 住房公积金
    "12328": "transport",  # 交通运输
}


def _env(name: str) -> str | None:
    return os.environ.get(f"HOTLINE_{name.upper()}")


@dataclass(frozen=True)
class Settings:
    # Where generated and installed things live (git-ignored).
    state_dir: Path = PROJECT_DIR / ".hotline"
    # The Debian-sid root Asterisk runs in; shared between state dirs (it is big and slow
    # to build), so it has its own setting.
    asterisk_root: Path = PROJECT_DIR / ".hotline" / "asterisk-root"
    debian_mirror: str = "http://deb.debian.org/debian"

    # Database: SQLite by default, PostgreSQL by URL (postgresql+psycopg2://...).
    database_url: str = ""

    # Redis, started by the project on its own port, loopback only.
    redis_host: str = "127.0.0.1"
    redis_port: int = 16379

    # Asterisk.
    sip_bind: str = "0.0.0.0"
    sip_port: int = 5060
    ami_port: int = 5038  # always bound to 127.0.0.1
    asterisk_verbose_log: bool = False  # full.log with every dialplan step
    fastagi_host: str = "127.0.0.1"
    fastagi_port: int = 4573
    # FastAGI nodes on this machine, on fastagi_port, +1, …: calls spread over them, and
    # an unreachable node's calls go to the next one.
    fastagi_nodes: int = 1
    acd_port: int = 4580  # the ACD service's health port, loopback only

    # The HTTP API and pages.
    api_host: str = "127.0.0.1"
    api_port: int = 8012

    # Carrier trunks, identified by source IP (comma-separated list of IPs).
    carrier_ips: str = "127.0.0.2"
    service_number: str = "12345"
    # REGISTER/INVITE brute force: a source with this many failed SIP authentications
    # within the window is refused (a PJSIP ACL) for sip_block_for_s. Loopback 127.0.0.1,
    # ::1, the carrier IPs and sip_block_exempt (comma-separated IPs) are never blocked.
    sip_block_after: int = 10
    sip_block_window_s: float = 60.0
    sip_block_for_s: float = 900.0
    sip_block_exempt: str = ""

    # Seats: seat-001 ... seat-NNN, each with its own secret and one registered contact.
    seat_count: int = 500
    # For load tests: the first N seats get a static contact instead of registering.
    static_seat_count: int = 0
    static_seat_host: str = "127.0.0.1"
    # Port of seat N's static contact: base + N when per-seat, or base for every seat.
    static_seat_port_base: int = 6000
    static_seat_port_per_seat: bool = True

    # Call handling. intake "fastagi" is the product; "app_queue" sends every call straight
    # to the fallback's plain Queue() with nothing of ours: the benchmarks' baseline.
    intake: str = "fastagi"
    # The app_queue baseline plays the same greeting before Queue() (bench/time_to_human.py).
    app_queue_greeting: bool = False
    ring_timeout_s: int = 15  # an offer rings this long, then the agent is paused
    # While another seat that could take the call is idle, an offer rings only this long
    # (then the agent is paused, and the call rings that seat): a seat whose agent is gone
    # costs the caller this, not the whole ring timeout. 0: always the ring timeout.
    ring_others_idle_s: float = 8.0
    # The greeting's first part (the service's name; a legacy number's notice too) plays
    # in full even when an agent answers during it: the bridge waits for its end. False:
    # the whole greeting yields to the agent's answer (ivr_flows/ring_media.py).
    greeting_first_part_always_plays: bool = True
    # An agent who lets this many offers in a row end unanswered (callers hanging up while
    # it rings, offers taken back) is paused with reason no_answer; 0: never for that.
    # Every unanswered offer also sends the seat to the back of the ready order.
    no_answer_pause_after: int = 2
    # A registered softphone is sent OPTIONS this often (0: never). One that stops
    # answering is unavailable, and its call in progress goes back to the queue.
    seat_qualify_s: int = 10
    # The ACD: longest_idle (default), least_calls or skill_level picks among ready agents.
    selection_policy: str = "longest_idle"
    wrapup_s: float = 30.0  # after-call work; the agent may end it early
    # Enterprise line and department-hint calls go to their own agents first, then to
    # the general pool after this long.
    overflow_s: float = 30.0
    transfer_overflow_s: float = 60.0  # a transferred call waits this long, then anyone
    announce_every_s: float = 0.0  # position and expected wait while waiting; 0 is off
    enterprise_numbers: str = "12345001"
    pause_reasons: str = "break,meal,training,meeting,no_answer"
    language: str = "zh"  # prompts: zh (default) or en
    legacy_numbers: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_LEGACY_NUMBERS))
    # Harassing callers (screening/caller_screening.py): a number with more than
    # harass_max_calls calls within harass_window_min minutes is refused with a prompt, and
    # stays blocked for harass_block_min minutes (24 h). 0 calls turns the automatic rule
    # off; a supervisor's blocks still apply. A supervisor may change all three at run time
    # (PUT /api/supervisor/blocklist/rule).
    harass_max_calls: int = 20
    harass_window_min: float = 60.0
    harass_block_min: float = 24 * 60.0

    # Accounts and the desk: how long a bearer token from POST /api/auth/token lasts.
    token_ttl_s: int = 12 * 3600
    # The ticket classification (code, major, middle, minor, unit); "" is the shipped
    # tickets/taxonomy.csv.
    taxonomy_file: str = ""
    # The ticket's life after the call: the units directory (units/data/units.csv when ""),
    # the time limits (deadlines/rules.toml when ""), the operator's local days off and
    # workdays (a CSV: date,kind,name; none when ""), and how often the urge/escalation
    # clocks sweep.
    units_file: str = ""
    deadline_rules_file: str = ""
    local_days_file: str = ""
    casework_sweep_s: float = 30.0
    # The monthly unit ranking's 100 points (casework/reports.py), and the points a unit
    # loses at a send-back rate of 100 %.
    ranking_weights: str = "on_time=30,response=20,resolution=25,satisfaction=25," \
                           "send_back_penalty=10"

    # Statistics (supervision/definitions.py says exactly what each figure counts).
    stats_timezone: str = "Asia/Shanghai"  # where "today" and the 15-minute intervals begin
    service_level_s: float = 15.0  # GB/T 33358: answered within 15 s
    short_abandon_s: float = 5.0  # hang-ups sooner than this do not count against the SL
    # The queue_log in Asterisk's own format, written from the ACD's events; "" is off,
    # otherwise a path (relative paths are in the log dir).
    queue_log: str = "queue_log"

    # Recording and transcription. Every answered call is recorded (citizen leg, agent leg,
    # mix) into recordings_folder (empty: <state_dir>/recordings), one sub-folder per day.
    # Workers on other machines need the same folder (a shared mount).
    recordings_folder: str = ""
    recording_retention_days: float = 180.0  # older recordings are deleted by the sweep
    # The Vosk model folder (production: vosk-model-cn-0.22 or vosk-model-small-cn-0.22,
    # provisioned by the operator). Required by `hotline asr-worker`; when it is set,
    # `hotline up` also starts asr_workers workers as services (asr, asr-2, ...), each
    # with a loopback health port from asr_health_port on.
    asr_model_path: str = ""
    asr_workers: int = 1
    asr_health_port: int = 4590
    asr_max_tries: int = 3  # a job that failed (or crashed its worker) this often is failed
    asr_claim_idle_s: float = 60.0  # a job silent this long is taken over by another worker
    # Phrase-list mode: a text file with one phrase per line becomes the Vosk grammar.
    # Empty: open vocabulary.
    asr_phrases_file: str = ""
    asr_unknown_word: str = "[unk]"  # the model's unknown-word token, added to the grammar
    # Keyword -> category rules (CSV); empty: transcription/category_rules.csv.
    asr_category_rules: str = ""
    # How long a worker waits for Asterisk to finish writing a call's recordings.
    asr_recording_wait_s: float = 20.0
    # An answered call this long over with no job (its enqueue was lost: the fallback path,
    # or Redis down at the hang-up) gets one from the workers' periodic check.
    asr_lost_after_s: float = 30.0

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "log"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def prompts_dir(self) -> Path:
        return self.state_dir / "prompts"

    @property
    def asterisk_dir(self) -> Path:
        """Asterisk's etc, run, log and spool dirs for this state dir."""
        return self.state_dir / "asterisk"

    @property
    def recordings_dir(self) -> Path:
        return Path(self.recordings_folder) if self.recordings_folder else (
            self.state_dir / "recordings")

    @property
    def secrets_file(self) -> Path:
        return self.state_dir / "secrets.json"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'tickets.db'}"

    @property
    def redis_url(self) -> str:
        return f"redis://{self.redis_host}:{self.redis_port}/0"

    def prompt(self, name: str) -> str:
        """Asterisk's name for a rendered prompt (absolute path, no extension)."""
        return str(self.prompts_dir / self.language / name)

    @property
    def offer_timeout_s(self) -> float:
        """After this, the sweeper takes back an offer nobody reported on."""
        return self.ring_timeout_s + 15.0

    def pause_reason_list(self) -> list[str]:
        return [r.strip() for r in self.pause_reasons.split(",") if r.strip()]

    def fastagi_ports(self) -> list[int]:
        return [self.fastagi_port + k for k in range(self.fastagi_nodes)]

    def carrier_ip_list(self) -> list[str]:
        return [ip.strip() for ip in self.carrier_ips.split(",") if ip.strip()]

    def seat_names(self) -> list[str]:
        return [seat_name(n) for n in range(1, self.seat_count + 1)]


def seat_name(number: int) -> str:
    return f"seat-{number:03d}"


def _coerce(kind: object, raw: str) -> object:
    if kind in (float, "float"):
        return float(raw)
    if kind in (int, "int"):
        return int(raw)
    if kind in (bool, "bool"):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind in (Path, "Path"):
        return Path(raw).resolve()
    if str(kind).startswith("dict"):
        # "12319=urban_management,96166=water"
        pairs = (item.split("=", 1) for item in raw.split(",") if item.strip())
        return {number.strip(): dept.strip() for number, dept in pairs}
    return raw


def load_settings() -> Settings:
    """Defaults, overridden by HOTLINE_* environment variables."""
    overrides: dict[str, object] = {}
    for f in dataclasses.fields(Settings):
        raw = _env(f.name)
        if raw is not None:
            overrides[f.name] = _coerce(f.type, raw)
    return Settings(**overrides)  # type: ignore[arg-type]
