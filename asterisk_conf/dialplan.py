"""extensions.conf: where every inbound call goes.

from-carrier -> hotline-intake -> FastAGI (agi/ call session). When FastAGI is unreachable,
or the session ends without finishing the call, the intake falls back to a pyst2
process-AGI script that opens (or reuses) the ticket, then an apology and a plain Queue().

A seat transfers (SIP REFER from its softphone, or the seat API through AMI) to one of the
transfer codes in from-seat: 7 + a department's number for its experts, 8 + a seat number
for that agent. The transferred caller, or the agent's consultation call, goes back
through hotline-transfer to the intake, where a new call session queues it with the
same ticket.
"""

from __future__ import annotations

from asterisk_conf.queues import FALLBACK_QUEUE
from infra.settings import Settings

FALLBACK_AGI = "hotline-fallback"
FALLBACK_AGI_ANSWERED = "hotline-fallback-answered"
SEAT_PREDIAL = "hotline-seat-predial"
SEAT_ANSWERED = "hotline-seat-answered"
SEAT_HANGUP = "hotline-seat-hangup"
TRANSFER_CONTEXT = "hotline-transfer"
EXPERT_PREFIX = "7"  # 7 + a department's number: that department's experts
AGENT_PREFIX = "8"  # 8 + a seat number (8007 -> seat-007): that agent
SPY_CONTEXT = "hotline-spy"  # ChanSpy for supervisors (supervision/spy.py)
RECORD_CALL = "hotline-record"
OMIT = "<omit>"  # a dialplan line that this mode leaves out


def hotline_numbers(settings: Settings) -> list[str]:
    enterprise = [n.strip() for n in settings.enterprise_numbers.split(",") if n.strip()]
    return [settings.service_number, *enterprise, *settings.legacy_numbers]


def transfer_extension(target: str, settings: Settings) -> str:
    """The from-seat code for "expert:<department>" or "agent:<seat>" (ValueError if none)."""
    kind, _, name = target.partition(":")
    if kind == "expert":
        for number, department in settings.legacy_numbers.items():
            if department == name:
                return f"{EXPERT_PREFIX}{number}"
        raise ValueError(f"no department {name!r}")
    if kind == "agent" and name in settings.seat_names():
        return f"{AGENT_PREFIX}{name.removeprefix('seat-')}"
    raise ValueError(f"unknown transfer target {target!r}: use expert:<department> or "
                     "agent:<seat>")


def record_call_context(settings: Settings) -> str:
    """Records an answered call on the seat's channel, named by ticket id (ARG1, or the
    inherited HOTLINE_REC_TICKET on the fallback path). On that channel MixMonitor's
    receive feed is the agent and its transmit feed the citizen. The worker derives the
    same paths (transcription.recordings.recording_path). A transferred call's next seat
    records under the ticket id plus ARG2 (e.g. -expert-water): MixMonitor cannot append
    to a WAV, and the first seat's files must not be overwritten."""
    folder = settings.recordings_dir.resolve()
    return f"""[{RECORD_CALL}]
exten => s,1,Set(LOCAL(ticket)=${{IF($["${{ARG1}}" != ""]?${{ARG1}}:${{HOTLINE_REC_TICKET}})}})
 same => n,ExecIf($["${{ticket}}" = ""]?Return())
 same => n,Set(LOCAL(base)={folder}/${{ticket:0:8}}/${{ticket}}${{ARG2}})
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
        fallback_open = OMIT
        # The time-to-human benchmark's baseline: the same greeting, then Queue().
        greeting = "&".join(settings.prompt(name) for name in ("greeting_name", "greeting"))
        before_queue = (f" same => n,Playback({greeting})" if settings.app_queue_greeting
                   else OMIT)
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
 same => n,AGI(${{HOTLINE_AGI}}/call,${{HOTLINE_TRANSFER}},${{HOTLINE_TRANSFER_TICKET}})
 same => n,GotoIf($["${{HOTLINE_DONE}}" = "1"]?done)
 ; The session died after its caller was served (its process was killed mid-call): the
 ; call is over, not to be queued again. The seat's hang-up handler closes the ticket.
 same => n,GotoIf($["${{DIALSTATUS}}" = "ANSWER"]?done)
 same => n,Set(HOTLINE_TRY=$[${{HOTLINE_TRY}} + 1])
 same => n,GotoIf($[{unreachable_and_untried}]?node)
 ; No FastAGI node took the call, or its session died: the fallback keeps it served.
 same => n,Verbose(0,hotline: fallback for ${{CHANNEL}} (AGISTATUS=${{AGISTATUS}}))
 same => n,Set(HOTLINE_FALLBACK=1)
 ; No SIGHUP for the fallback's scripts: pyst2 aborts every command after one, so a
 ; caller hanging up as the fallback starts would leave the call without a ticket. Its
 ; commands (variables, verbose) work on a hung-up channel.
 same => n,Set(AGISIGHUP=no)"""
        fallback_open = f" same => n,AGI({FALLBACK_AGI},open)"
        before_queue = f" same => n,Playback({settings.prompt('fallback_apology')})"
    experts = "\n".join(
        f"exten => {EXPERT_PREFIX}{number},1,Set(HOTLINE_TRANSFER=expert:{department})\n"
        f" same => n,Goto({TRANSFER_CONTEXT},${{EXTEN}},1)"
        for number, department in settings.legacy_numbers.items())
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
{before_queue}
{record_ticket}
 same => n,Queue({FALLBACK_QUEUE},{queue_options},,,,{queue_agi},{queue_record})
 same => n(done),Hangup()
exten => h,1,ExecIf($["${{HOTLINE_FALLBACK}}" = "1"]?AGI({FALLBACK_AGI},close))

; The fallback's Queue() runs this on the seat's channel before it is dialled: the ticket
; and call ids travel in the INVITE, so the seat's softphone (and the benchmarks) can tell
; which call rings. (app_queue runs it without autoservice; FastAGI sessions label the
; caller's channel with inheritable headers instead, see agi/queued_call.py.)
[{SEAT_PREDIAL}]
exten => s,1,ExecIf($["${{ARG1}}" != ""]?Set(PJSIP_HEADER(add,X-Hotline-Ticket)=${{ARG1}}))
 same => n,Set(PJSIP_HEADER(add,X-Hotline-Call)=${{ARG2}})
 same => n,Return()

; Runs on the seat's channel when it answers, before the bridge: the ACD and the ticket
; learn of the answer at once. If FastAGI is down the bridge still goes ahead. The hang-up
; handler frees the seat when its channel ends, wherever a transfer has moved the call.
; The answer's time is stamped first (epoch s.ms): the ticket's talk time starts there,
; not once the recording has started and the FastAGI route has connected.
[{SEAT_ANSWERED}]
exten => s,1,Set(LOCAL(answered)=${{STRFTIME(,,%s.%3q)}})
 same => n,Set(CHANNEL(hangup_handler_push)={SEAT_HANGUP},s,1(${{ARG1}},${{ARG2}}))
 same => n,Gosub({RECORD_CALL},s,1(${{ARG3}},${{ARG5}}))
 same => n,AGI(${{HOTLINE_AGI}}/answered,${{ARG1}},${{ARG2}},${{ARG3}},${{ARG4}},${{answered}})
 ; ARG6: the epoch until which the greeting's first part still plays to the caller (the
 ; seat rang during it). The bridge waits for it, the caller hearing it meanwhile; the
 ; agent's talk time has begun (the seat is on the call).
 same => n,Set(LOCAL(now)=${{STRFTIME(,,%s.%3q)}})
 same => n,ExecIf($["${{ARG6}}" != "" & "${{ARG6}}" > "${{now}}"]?Wait($[${{ARG6}} - ${{now}}]))
 same => n,Return()

[{SEAT_HANGUP}]
; BLINDTRANSFER: Asterisk names the transferer's peer there when this seat sent the
; caller on (its REFER, or the seat API's), before the seat leaves the bridge.
exten => s,1,Set(LOCAL(source)=${{CHANNEL(hangupsource)}})
 same => n,AGI(${{HOTLINE_AGI}}/seat_ended,${{ARG1}},${{ARG2}},${{source}},${{BLINDTRANSFER}})
 same => n,Return()

{record_call_context(settings)}

; A supervisor listens to, whispers into or barges into a seat's call: the API's AMI
; Originate rings the supervisor's own seat into here, with SPY_SEAT set. No seat can
; dial into this context.
[{SPY_CONTEXT}]
exten => listen,1,ChanSpy(PJSIP/${{SPY_SEAT}}-,qE)
 same => n,Hangup()
exten => whisper,1,ChanSpy(PJSIP/${{SPY_SEAT}}-,qEw)
 same => n,Hangup()
exten => barge,1,ChanSpy(PJSIP/${{SPY_SEAT}}-,qEB)
 same => n,Hangup()

; What a seat's softphone may dial, and where its transfers (REFER) land: an echo test,
; then the transfer codes.
[from-seat]
exten => 600,1,Answer()
 same => n,Echo()
 same => n,Hangup()
{experts}
exten => _{AGENT_PREFIX}XXX,1,Set(HOTLINE_TRANSFER=agent:seat-${{EXTEN:1}})
 same => n,Goto({TRANSFER_CONTEXT},${{EXTEN}},1)

; A transferred caller keeps its ticket, handed over in HOTLINE_TRANSFER_TICKET: the
; intake's HOTLINE_TICKET/HOTLINE_DONE mean "this session started/finished", so they and
; the last transfer's mark are cleared for the new session.
[{TRANSFER_CONTEXT}]
exten => _X.,1,Set(HOTLINE_TRANSFER_TICKET=${{HOTLINE_TICKET}})
 same => n,Set(HOTLINE_TICKET=)
 same => n,Set(HOTLINE_DONE=)
 same => n,Set(BLINDTRANSFER=)
 same => n,Set(DIALSTATUS=)
 same => n,Goto(hotline-intake,${{EXTEN}},1)
"""
    return "\n".join(line for line in body.split("\n") if line != OMIT)
