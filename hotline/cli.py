"""The `hotline` command.

    hotline up        install what is missing, configure, start every service
    hotline status    the health of each component
    hotline down      stop every service
    hotline test      install what the tests need, run the whole suite (pytest)
    hotline test --unit   only tests/unit: no Asterisk root, SIPp or browser needed
    hotline seat ready|pause|logout|show SEAT
    hotline user add NAME --role agent|supervisor|admin|dispatcher|unit [--seat seat-001]
                     [--unit 370102]
    hotline user list | remove NAME | token NAME [--ttl-s N]
    hotline asterisk "pjsip show endpoints"
    hotline sip blocked | unblock IP   (seats/registration_guard.py)
    hotline asr-worker | asr-requeue TICKET | recordings-sweep   (transcription/cli.py)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import date

import redis

from hotline import provision, services
from infra.settings import PROJECT_DIR, Settings, load_settings
from seats.registration_guard import add_commands as add_sip_commands
from transcription.cli import add_commands as add_transcription_commands


def _configure(settings: Settings) -> None:
    from asterisk_conf.generate import write_config
    from hotline.migrate import upgrade
    from ivr_flows.prompts import render_all
    from ivr_flows.ring_media import build_all as build_ring_media

    provision.ensure_host_commands(provision.HOST_COMMANDS)
    provision.ensure_asterisk_root(settings)
    write_config(settings)
    rendered = render_all(settings)
    if rendered:
        provision.say(f"rendered {len(rendered)} prompts")
    build_ring_media(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.effective_database_url)


def cmd_up(settings: Settings, _: argparse.Namespace) -> int:
    _configure(settings)
    for service in services.all_services(settings):
        pid = services.start(settings, service)
        print(f"  {service.name:<9} pid {pid:<7} {service.protocol} "
              f"{service.host}:{service.port}")
    print(f"  tickets   {settings.effective_database_url.split('@')[-1]}")
    print(f"  logs      {settings.log_dir}")
    print("The hotline is up. Dial 12345 from the carrier at "
          f"{settings.carrier_ips}; make a seat ready with `hotline seat ready seat-001`.")
    return 0


def cmd_down(settings: Settings, _: argparse.Namespace) -> int:
    for service in reversed(services.all_services(settings)):
        was = services.stop(settings, service)
        print(f"  {service.name:<9} {'stopped' if was else 'not running'}")
    return 0


def _service_named(settings: Settings, name: str) -> services.Service:
    return {s.name: s for s in services.all_services(settings)}[name]


def cmd_start(settings: Settings, args: argparse.Namespace) -> int:
    service = _service_named(settings, args.service)
    pid = services.start(settings, service)
    print(f"  {service.name:<9} pid {pid:<7} {service.protocol} {service.host}:{service.port}")
    return 0


def cmd_stop(settings: Settings, args: argparse.Namespace) -> int:
    was = services.stop(settings, _service_named(settings, args.service))
    print(f"  {args.service:<9} {'stopped' if was else 'not running'}")
    return 0


def component_health(settings: Settings) -> dict[str, str]:
    from infra.ami import ami_action

    health: dict[str, str] = {}
    for service in services.all_services(settings):
        pid = services.read_pid(settings, service.name)
        if pid is None:
            health[service.name] = "down"
        elif not services.port_open(service.host, service.port):
            health[service.name] = f"starting (pid {pid}, port {service.port} closed)"
        else:
            health[service.name] = f"up (pid {pid}, {service.host}:{service.port})"
    if health["asterisk"].startswith("up"):
        try:
            reply = asyncio.run(ami_action(settings, {"Action": "Ping"}))
            ok = reply.get("Response") == "Success"
            health["asterisk"] += ", AMI ping ok" if ok else ", AMI ping failed"
        except Exception as exc:
            health["asterisk"] += f", AMI unreachable: {exc}"
    if health["redis"].startswith("up"):
        try:
            redis.Redis.from_url(settings.redis_url, socket_timeout=2).ping()
            health["redis"] += ", ping ok"
        except redis.RedisError as exc:
            health["redis"] += f", ping failed: {exc}"
    return health


def transcription_status(settings: Settings) -> str:
    """The transcription backlog, and who works on it: calls are recorded either way."""
    from transcription.jobs import backlog

    workers = len(services.asr_services(settings))
    who = (f"{workers} worker{'s' if workers != 1 else ''} configured" if workers else
           "no worker: set HOTLINE_ASR_MODEL_PATH, or run `hotline asr-worker` elsewhere")
    try:
        work = backlog(redis.Redis.from_url(settings.redis_url, socket_timeout=2))
    except redis.RedisError as exc:
        return f"backlog unknown (Redis: {exc}); {who}"
    return f"backlog {work.waiting} waiting, {work.in_progress} in progress; {who}"


def cmd_status(settings: Settings, _: argparse.Namespace) -> int:
    health = component_health(settings)
    for name, text in health.items():
        print(f"  {name:<9} {text}")
    print(f"  {'asr jobs':<9} {transcription_status(settings)}")
    print(f"  {'calendar':<9} {calendar_status()}")
    return 0 if all(text.startswith("up") for text in health.values()) else 1


def calendar_status(today: date | None = None) -> str:
    """Whether China's official calendar (chinese-calendar) knows this year and the next:
    deadlines in working days need it, and the package gets each year when the State Council
    publishes it (in a year it does not know, Monday to Friday counts)."""
    from deadlines.workdays import official_calendar_covers

    year = (today or date.today()).year
    missing = [y for y in (year, year + 1) if not official_calendar_covers(y)]
    if not missing:
        return f"official holidays known for {year} and {year + 1}"
    return (f"official holidays NOT known for {', '.join(map(str, missing))}: deadlines count "
            "Monday to Friday there; upgrade chinese-calendar, or list the days in the "
            "local days file (HOTLINE_LOCAL_DAYS_FILE)")


# What tests/unit runs on the host: redis-server (tests/support/redis_server.py), espeak-ng
# and sox (the prompts, tests/support/speech.py). Its PostgreSQL tests install the server
# themselves (tests/support/postgres.py). No Asterisk root, SIPp, Chromium or fonts.
UNIT_TEST_COMMANDS = {cmd: provision.HOST_COMMANDS[cmd]
                      for cmd in ("redis-server", "espeak-ng", "sox")}


# `hotline test --unit` runs tests/unit in two pytest-xdist workers (the machine has two
# cores, and many tests mostly wait on Redis, SQLite or PostgreSQL); work-stealing keeps the
# long Hypothesis state machine (tests/unit/test_acd_properties.py) from holding one worker's
# queue. Asked for given paths or node ids, one pytest.
UNIT_WORKERS = ["-n", "2", "--dist", "worksteal"]
# pytest options whose value is the next argument (the value is no path of a test).
PYTEST_VALUE_OPTIONS = {"-k", "-m", "-p", "-c", "-o", "-W", "--deselect", "--ignore",
                        "--ignore-glob", "--junitxml", "--junit-xml", "--rootdir", "--basetemp",
                        "--tb", "--maxfail", "--durations", "--confcutdir", "--log-level",
                        "--hypothesis-seed", "--hypothesis-profile"}


def names_tests(pytest_args: list[str]) -> bool:
    """Are paths or node ids of tests among pytest's arguments?"""
    value_next = False
    for arg in pytest_args:
        if value_next:
            value_next = False
        elif arg in PYTEST_VALUE_OPTIONS:
            value_next = True
        elif not arg.startswith("-") and (PROJECT_DIR / arg.split("::")[0]).exists():
            return True
    return False


def cmd_test(settings: Settings, args: argparse.Namespace) -> int:
    """Installs what the run needs, then runs pytest with the arguments as given.

    ``--unit`` stays among them: it is the suite's own pytest option (tests/conftest.py),
    which collects tests/unit only; here it also means installing only what that needs,
    and running the long pole beside the rest.
    """
    if args.unit:
        provision.ensure_host_commands(UNIT_TEST_COMMANDS)
    else:
        provision.ensure_host_commands({**provision.HOST_COMMANDS, **provision.TEST_COMMANDS})
        provision.ensure_host_files(provision.TEST_FILES)
        provision.ensure_asterisk_root(settings)
    os.chdir(PROJECT_DIR)
    workers = UNIT_WORKERS if args.unit and not names_tests(args.pytest_args) else []
    os.execv(sys.executable, [sys.executable, "-m", "pytest", *workers, *args.pytest_args])


def cmd_seat(settings: Settings, args: argparse.Namespace) -> int:
    from acd.distributor import Distributor
    from acd.models import AcdError, AgentRecord
    from acd.routing import format_skills, parse_skills

    async def act() -> AgentRecord:
        client = redis.asyncio.Redis.from_url(settings.redis_url)
        try:
            acd = Distributor(client, "cli")
            if args.action == "login":
                await acd.login(args.seat, skills)
            elif args.action == "ready":
                await acd.seat_ready(args.seat)
            elif args.action == "wrapup-done":
                await acd.wrapup_done(args.seat)
            elif args.action == "pause":
                await acd.seat_pause(args.seat, args.reason)
            elif args.action == "logout":
                await acd.seat_logout(args.seat)
            return await acd.agent(args.seat)
        finally:
            await client.aclose()

    if args.seat not in settings.seat_names():
        print(f"hotline: no such seat {args.seat!r}", file=sys.stderr)
        return 2
    skills = ""
    if args.action == "login":
        # Bad input is a usage error (exit 2, like argparse's), told before Redis is asked.
        try:
            skills = format_skills(parse_skills(args.skills))
        except ValueError as exc:
            print(f"hotline: {args.seat}: {exc}", file=sys.stderr)
            return 2
    try:
        state = asyncio.run(act())
    except (AcdError, ValueError) as exc:
        print(f"hotline: {args.seat}: {exc}", file=sys.stderr)
        return 1
    print(f"{args.seat} {state.state.value} {state.reason}".rstrip())
    return 0


def _password_from_stdin() -> str | None:
    """A password piped in on the first line of stdin; None on a terminal or no input."""
    if sys.stdin is None or sys.stdin.closed or sys.stdin.isatty():
        return None
    line = sys.stdin.readline().rstrip("\r\n")
    return line or None


def cmd_user(settings: Settings, args: argparse.Namespace) -> int:
    from accounts.passwords import generate_password
    from accounts.store import AccountError, AccountStore
    from hotline.migrate import upgrade

    upgrade(settings.effective_database_url)
    accounts = AccountStore(settings.effective_database_url)
    try:
        if args.action == "list":
            for user in accounts.list():
                print(f"{user.name:<20} {user.role:<11} {user.seat or user.unit or ''}".rstrip())
            return 0
        if not args.name:
            print("hotline: a user name is required", file=sys.stderr)
            return 2
        if args.action == "token":
            from accounts.tokens import Principal, TokenSigner
            from infra.secrets import load_secrets

            found = accounts.get(args.name)
            if found is None:
                print(f"hotline: no such user {args.name!r}; create the account first, e.g. "
                      f"hotline user add {args.name} --role supervisor", file=sys.stderr)
                return 1
            signer = TokenSigner(load_secrets(settings).api_signing_key,
                                 args.ttl_s or settings.token_ttl_s)
            issued, _ = signer.issue(Principal(found.name, found.role, found.seat, found.unit))
            print(issued)
            return 0
        if args.action == "remove":
            if not accounts.remove(args.name):
                print(f"hotline: no such user {args.name!r}", file=sys.stderr)
                return 1
            print(f"removed {args.name}")
            return 0
        if args.seat and args.seat not in settings.seat_names():
            print(f"hotline: no such seat {args.seat!r}", file=sys.stderr)
            return 2
        if args.unit:
            from hotline.casework_rules import directory

            if args.unit not in directory(settings):
                print(f"hotline: no unit {args.unit!r} in the units directory", file=sys.stderr)
                return 2
        given = _password_from_stdin()
        password = given or generate_password()
        try:
            user = accounts.add(args.name, args.role, password, args.seat, args.unit)
        except AccountError as exc:
            print(f"hotline: {exc}", file=sys.stderr)
            return 1
        bound = user.seat or user.unit
        print(f"added {user.name} ({user.role}{', ' + bound if bound else ''})")
        if not given:
            print(f"password: {password}   (shown once; it is stored hashed)")
        return 0
    finally:
        accounts.dispose()


def cmd_asterisk(settings: Settings, args: argparse.Namespace) -> int:
    print(services.asterisk_cli(settings, " ".join(args.command)), end="")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="hotline", description="The 12345 hotline.")
    sub = top.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="install what is missing and start everything").set_defaults(
        func=cmd_up)
    sub.add_parser("down", help="stop everything").set_defaults(func=cmd_down)
    sub.add_parser("status", help="health of each component").set_defaults(func=cmd_status)
    names = [s.name for s in services.all_services(load_settings())]
    for verb, func in (("start", cmd_start), ("stop", cmd_stop)):
        one = sub.add_parser(verb, help=f"{verb} one service")
        one.add_argument("service", choices=names)
        one.set_defaults(func=func)
    test = sub.add_parser("test", help="run the whole test suite (the rest goes to pytest)")
    test.add_argument("--unit", action="store_true",
                      help="only tests/unit, without installing what only the stack needs")
    test.add_argument("pytest_args", nargs=argparse.REMAINDER)
    test.set_defaults(func=cmd_test)
    seat = sub.add_parser("seat", help="log a seat's agent in or out, ready, pause, show")
    seat.add_argument("action",
                      choices=["login", "ready", "pause", "wrapup-done", "logout", "show"])
    seat.add_argument("seat")
    seat.add_argument("--reason", default="break",
                      choices=load_settings().pause_reason_list())
    seat.add_argument("--skills", default="general:1", help='e.g. "general:1,tax:5"')
    seat.set_defaults(func=cmd_seat)
    user = sub.add_parser("user", help="accounts: add (password from stdin or generated), "
                          "list, remove, token (a bearer token, e.g. for /metrics)")
    user.add_argument("action", choices=["add", "list", "remove", "token"])
    user.add_argument("name", nargs="?")
    user.add_argument("--role", default="agent",
                      choices=["agent", "supervisor", "admin", "dispatcher", "unit"])
    user.add_argument("--seat", help="the agent's seat, e.g. seat-001")
    user.add_argument("--unit", help="a unit user's unit code, e.g. 370102 (units/data/units.csv)")
    user.add_argument("--ttl-s", type=int, default=0,
                      help="token: lifetime in seconds (e.g. for Prometheus' scraper)")
    user.set_defaults(func=cmd_user)
    ast = sub.add_parser("asterisk", help="run an Asterisk CLI command")
    ast.add_argument("command", nargs="+")
    ast.set_defaults(func=cmd_asterisk)
    add_transcription_commands(sub)
    add_sip_commands(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["test"]:
        # Everything after "test" is pytest's, options first included (-k, --durations);
        # --unit, anywhere among them, also tells cmd_test what to install.
        args = parser().parse_args(["test"])
        args.unit = "--unit" in argv[1:]
        args.pytest_args = argv[1:]
    else:
        args = parser().parse_args(argv)
    return int(args.func(load_settings(), args))


if __name__ == "__main__":
    sys.exit(main())
