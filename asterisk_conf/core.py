"""asterisk.conf, logger.conf, rtp.conf, musiconhold.conf, cdr.conf and other small files."""

from __future__ import annotations

from pathlib import Path

from asterisk_conf.layout import AsteriskLayout
from infra.settings import Settings


def asterisk_conf(layout: AsteriskLayout) -> str:
    return f"""[directories]
astetcdir => {layout.etc}
astmoddir => {layout.module_dir()}
astvarlibdir => /var/lib/asterisk
astdbdir => {layout.lib}
astkeydir => /var/lib/asterisk
astdatadir => /usr/share/asterisk
astagidir => {layout.agi_bin}
astspooldir => {layout.spool}
astrundir => {layout.run}
astlogdir => {layout.log}
astsbindir => /usr/sbin

[options]
; Explicit module list in modules.conf; no autoload.
verbose = 0
debug = 0
maxcalls = 2000
maxload = 0
; Each call holds SIP, RTP and RTCP sockets; 500 seats need far more than 1,024.
maxfiles = 65536
transmit_silence = yes
hideconnect = yes
"""


# Where Asterisk's own queue_log goes in the app_queue baseline (in its log directory).
APP_QUEUE_LOG = "app_queue_log"


def logger_conf(verbose_log: bool, app_queue: bool = False) -> str:
    # full.log traces every dialplan step: for tests and debugging, not for load.
    full = "full.log => notice,warning,error,verbose(3),dtmf\n" if verbose_log else ""
    # The hotline writes the queue_log itself, from the ACD's events
    # (supervision/queue_log.py); Asterisk's own would be a second, different history
    # (the fallback Queue()'s calls and QUEUESTART lines), so it is off. The app_queue
    # baseline keeps it, under a name of its own, to compare the two
    # (tests/stack/test_queue_log_parity.py).
    queue_log = (f"queue_log = yes\nqueue_log_name = {APP_QUEUE_LOG}" if app_queue
                 else "queue_log = no")
    return f"""[general]
dateformat = %F %T.%3q
{queue_log}

[logfiles]
messages.log => notice,warning,error,security
{full}"""


def rtp_conf() -> str:
    return """[general]
rtpstart = 20000
rtpend = 39999
"""


# The greeting as the seats' ring media (ivr_flows/ring_media.py fills the folders):
# played in name order, the last file (the music) looped, resumed where it stopped.
GREETING_CLASS = "hotline-greeting"
MOVED_GREETING_CLASS = "hotline-greeting-moved"
RING_MEDIA_CLASSES = (GREETING_CLASS, MOVED_GREETING_CLASS)


def ring_media_dir(settings: Settings, music_class: str) -> Path:
    return settings.prompts_dir / "ring-media" / music_class


def musiconhold_conf(settings: Settings) -> str:
    greetings = "".join(f"""
[{name}]
mode = files
directory = {ring_media_dir(settings, name)}
sort = alpha
loop_last = yes
""" for name in RING_MEDIA_CLASSES)
    return f"""[default]
mode = files
directory = moh
{greetings}"""


def cdr_conf() -> str:
    return """[general]
enable = yes
unanswered = yes

[csv]
usegmtime = yes
loguniqueid = yes
accountlogs = no
"""


def features_conf() -> str:
    # The seat's phone keys for transfers (Dial's t option); the seat API's attended
    # transfer (AMI Atxfer) needs the atxfer code too.
    return """[general]
transferdigittimeout = 3

[featuremap]
blindxfer = #1
atxfer = *2
"""


def indications_conf() -> str:
    return """[general]
country = cn

[cn]
description = China
ringcadence = 1000,4000
dial = 450
busy = 450/350,0/350
ring = 450/1000,0/4000
congestion = 450/700,0/700
callwaiting = 450/400,0/4000
dialrecall = 450
record = 950/400,0/10000
info = 450/100,0/100,450/100,0/100,450/100,0/100,450/400,0/400
"""
