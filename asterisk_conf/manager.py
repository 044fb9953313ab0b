"""manager.conf: AMI on loopback only, one generated account for the hotline's services."""

from __future__ import annotations

from infra.secrets import Secrets
from infra.settings import Settings


def manager_conf(settings: Settings, secrets: Secrets) -> str:
    return f"""[general]
enabled = yes
bindaddr = 127.0.0.1
port = {settings.ami_port}
displayconnects = no
; Events carry Asterisk's own time, to the microsecond.
timestampevents = yes

[{secrets.ami_user}]
secret = {secrets.ami_password}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = system,call,agent,user,config,dtmf,reporting,cdr,dialplan,security
write = system,call,agent,user,config,command,reporting,originate
"""
