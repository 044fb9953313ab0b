"""extensions.conf: where every inbound call goes.

from-carrier -> hotline-intake -> FastAGI (agi/ call session). When FastAGI is unreachable,
or the session ends without finishing the call, the intake falls back to a pyst2
process-AGI script that opens (or reuses) the ticket, then an apology and a plain Queue().
"""

from __future__ import annotations

from asterisk_conf.queues import FALLBACK_QUEUE
from hotline.settings import Settings

FALLBACK_AGI = "hotline-fallback"
FALLBACK_AGI_ANSWERED = "hotline-fallback-answered"
SEAT_PREDIAL = "hotline-seat-predial"
SEAT_ANSWERED = "hotline-seat-answered"
RECORD_CALL = "hotline-record"
OMIT = "<omit>"  # a dialplan line that this mode leaves out


def hotline_numbers(settings: Settings) -> list[str]:
    enterprise = [n.strip() for n in settings.enterprise_numbers.split(",") if n.strip()]
    return [settings.service_number, *enterprise, *settings.legacy_numbers]


def record_call_context(settings: Settings) -> str:
    """Records an answered call on the seat's channel, named by ticket id (ARG1, or the
    inherited HOTLINE_REC_TICKET on the fallback path). On that channel MixMonitor's
    receive feed is the agent and its transmit feed the citizen. The worker derives the
    same paths (transcription.recordings.recording_path)."""
    folder = settings.recordings_dir.resolve()
    return f"""[{RECORD_CALL}]
exten => s,1,Set(LOCAL(ticket)=${{IF($["${{ARG1}}" != ""]?${{ARG1}}:${{HOTLINE_REC_TICKET}})}})
 same => n,ExecIf($["${{ticket}}" = ""]?Return())
 same => n,Set(LOCAL(base)={folder}/${{ticket:0:8}}/${{ticket}})
 same => n,MixMonitor(${{base}}-mix.wav,r(${{base}}-agent.wav)t(${{base}}-citizen.wav))
 same => n,Return()"""


def extensions_conf(settings: Settings) -> str:
    inbound = "\n".join(
        f"exten => {number},1,Goto(hotline-intake,${{EXTEN}},1)"
        for number in hotline_numbers(settings)
    )
    nodes = settings.fastagi_nodes
    base = settings.fastagi_port
    if settings.intake == "app_queue":
        # The benchmarks' baseline, never the product: the fallback's own Queue() line with
        # nothing of ours before it (no FastAGI, no ticket script, no apology).
        intake = " same => n,NoOp(app_queue baseline)"
        fallback_open = apology = OMIT
    else:
        # Start at a random node; while a node is unreachable, try the next. The node's
        # address is inherited by the seat's channel, for the answered route.
        node_port = f"$[{base} + (${{HOTLINE_FIRST}} + ${{HOTLINE_TRY}}) % {nodes}]"
        node_address = f"agi://{settings.fastagi_host}:{node_port}"
        unreachable_and_untried = ('"${AGISTATUS}" = "FAILURE" & "${HOTLINE_TICKET}" = "" & '
                                   f"${{HOTLINE_TRY}} < {nodes}")
        intake = f"""\
 same => n,Set(HOTLINE_TRY=0)
 same => n,Set(HOTLINE_FIRST=${{RAND(0,{nodes - 1})}})
 same => n(node),Set(__HOTLINE_AGI={node_address})
 same => n,AGI(${{HOTLINE_AGI}}/call)
 same => n,GotoIf($["${{HOTLINE_DONE}}" = "1"]?done)
 same => n,Set(HOTLINE_TRY=$[${{HOTLINE_TRY}} + 1])
 same => n,GotoIf($[{unreachable_and_untried}]?node)
 ; No FastAGI node took the call, or its session died: the fallback keeps it served.
 same => n,Verbose(0,hotline: fallback for ${{CHANNEL}} (AGISTATUS=${{AGISTATUS}}))
 same => n,Set(HOTLINE_FALLBACK=1)"""
        fallback_open = f" same => n,AGI({FALLBACK_AGI},open)"
        apology = f" same => n,Playback({settings.prompt('fallback_apology')})"
    queue_agi = "" if settings.intake == "app_queue" else FALLBACK_AGI_ANSWERED
    # The fallback records too: Queue()'s gosub runs on the seat's channel once connected.
    queue_record = "" if settings.intake == "app_queue" else RECORD_CALL
    record_ticket = (OMIT if settings.intake == "app_queue"
                     else " same => n,Set(__HOTLINE_REC_TICKET=${HOTLINE_TICKET})")
    # t: the seat may transfer; b(): the predial handler that labels the seat's INVITE.
    queue_options = f"tb({SEAT_PREDIAL}^s^1(${{HOTLINE_TICKET}}^${{UNIQUEID}}))"
    body = f"""[general]
static = yes
writeprotect = yes
clearglobalvars = yes

[globals]

; The carrier trunk: 12345 and every legacy department number. Anything else is refused
; as an unallocated number.
[from-carrier]
{inbound}
exten => _X.,1,Hangup(1)
exten => _[+*#a-zA-Z].,1,Hangup(1)

[hotline-intake]
exten => _X.,1,Set(HOTLINE_DIALLED=${{EXTEN}})
{intake}
{fallback_open}
 same => n,Answer()
{apology}
{record_ticket}
 same => n,Queue({FALLBACK_QUEUE},{queue_options},,,,{queue_agi},{queue_record})
 same => n(done),Hangup()
exten => h,1,ExecIf($["${{HOTLINE_FALLBACK}}" = "1"]?AGI({FALLBACK_AGI},close))

; Runs on the seat's channel before it is dialled: the ticket and call ids travel in the
; INVITE, so the seat's softphone (and the benchmarks) can tell which call rings.
[{SEAT_PREDIAL}]
exten => s,1,ExecIf($["${{ARG1}}" != ""]?Set(PJSIP_HEADER(add,X-Hotline-Ticket)=${{ARG1}}))
 same => n,Set(PJSIP_HEADER(add,X-Hotline-Call)=${{ARG2}})
 same => n,Return()

; Runs on the seat's channel when it answers, before the bridge: the ACD and the ticket
; learn of the answer at once. If FastAGI is down the bridge still goes ahead.
[{SEAT_ANSWERED}]
exten => s,1,Gosub({RECORD_CALL},s,1(${{ARG3}}))
 same => n,AGI(${{HOTLINE_AGI}}/answered,${{ARG1}},${{ARG2}},${{ARG3}})
 same => n,Return()

{record_call_context(settings)}

; What a seat's softphone may dial: an echo test. Transfers arrive with the ACD.
[from-seat]
exten => 600,1,Answer()
 same => n,Echo()
 same => n,Hangup()
"""
    return "\n".join(line for line in body.split("\n") if line != OMIT)
