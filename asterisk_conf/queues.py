"""queues.conf: the plain Queue() the dialplan falls back to when FastAGI is unreachable.

app_queue's defaults stall the queue behind one seat that never answers (leastrecent
keeps choosing it), so the fallback sets autofill and autopause.
"""

from __future__ import annotations

from infra.settings import Settings

FALLBACK_QUEUE = "hotline-fallback"


def queues_conf(settings: Settings) -> str:
    members = "\n".join(f"member => PJSIP/{seat}" for seat in settings.seat_names())
    return f"""[general]
persistentmembers = no
autofill = yes
shared_lastcall = yes

[{FALLBACK_QUEUE}]
strategy = leastrecent
timeout = {settings.ring_timeout_s}
retry = 1
wrapuptime = 0
autopause = yes
autopausedelay = 0
ringinuse = no
joinempty = yes
leavewhenempty = no
setinterfacevar = yes
setqueueentryvar = yes
musicclass = default
{members}
"""
