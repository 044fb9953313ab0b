"""pjsip.conf: one UDP transport, carrier trunks identified by IP, and the seats.

Nothing is anonymous: a request that matches no carrier IP and no seat's credentials is
challenged and refused, so no unknown or unauthenticated peer can place a call.
"""

from __future__ import annotations

from hotline.secrets import Secrets
from hotline.settings import Settings, seat_name

CODECS = "disallow = all\nallow = ulaw,alaw"


def _global() -> str:
    return """[global]
type = global
; Carriers are recognised by source IP before any user name is considered.
endpoint_identifier_order = ip,username
user_agent = hotline12345
"""


def _transport(settings: Settings) -> str:
    return f"""[transport-udp]
type = transport
protocol = udp
bind = {settings.sip_bind}:{settings.sip_port}
"""


def _carrier(settings: Settings) -> str:
    matches = "\n".join(
        f"match = {ip.strip()}" for ip in settings.carrier_ips.split(",") if ip.strip()
    )
    return f"""[carrier]
type = endpoint
context = from-carrier
{CODECS}
direct_media = no
rtp_symmetric = yes
dtmf_mode = rfc4733
send_rpid = no
trust_id_inbound = no

[carrier]
type = identify
endpoint = carrier
{matches}
"""


def static_contact(settings: Settings, number: int) -> str | None:
    """The fixed contact of a load-test seat, or None when the seat registers."""
    if number > settings.static_seat_count:
        return None
    port = settings.static_seat_port_base
    if settings.static_seat_port_per_seat:
        port += number
    return f"sip:{seat_name(number)}@{settings.static_seat_host}:{port}"


def _seat(settings: Settings, secrets: Secrets, number: int) -> str:
    name = seat_name(number)
    contact = static_contact(settings, number)
    # A softphone that vanishes is noticed by qualify (OPTIONS). Load-test seats with a
    # fixed contact are not qualified.
    qualify = f"\nqualify_frequency = {settings.seat_qualify_s}" if settings.seat_qualify_s else ""
    aor = (f"contact = {contact}" if contact
           else f"max_contacts = 1\nremove_existing = yes{qualify}")
    return f"""[{name}]
type = endpoint
context = from-seat
{CODECS}
auth = {name}
aors = {name}
direct_media = no
rtp_symmetric = yes
dtmf_mode = rfc4733
callerid = {name} <{name}>

[{name}]
type = auth
auth_type = userpass
username = {name}
password = {secrets.seat_passwords[name]}

[{name}]
type = aor
{aor}
"""


def pjsip_conf(settings: Settings, secrets: Secrets) -> str:
    parts = [_global(), _transport(settings), _carrier(settings)]
    parts.extend(_seat(settings, secrets, n) for n in range(1, settings.seat_count + 1))
    return "\n".join(parts)
