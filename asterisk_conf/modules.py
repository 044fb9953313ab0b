"""modules.conf: an explicit module list (autoload=no) so start-up is fast and predictable."""

from __future__ import annotations

# Grouped by purpose. Dependencies seen here: res_agi needs res_speech; chan_pjsip needs
# res_pjsip_pubsub and res_pjsip_session.
MODULES: dict[str, list[str]] = {
    "sorcery and core": [
        "res_sorcery_config.so", "res_sorcery_memory.so", "res_sorcery_astdb.so",
        "res_timing_timerfd.so", "res_rtp_asterisk.so", "res_musiconhold.so",
        "pbx_config.so", "func_callerid.so", "func_channel.so", "func_strings.so",
        "func_logic.so", "func_global.so", "func_rand.so", "func_math.so", "res_security_log.so",
    ],
    "sip": [
        "res_pjproject.so", "res_pjsip.so", "res_pjsip_pubsub.so", "res_pjsip_session.so",
        "chan_pjsip.so", "res_pjsip_authenticator_digest.so",
        "res_pjsip_outbound_authenticator_digest.so", "res_pjsip_endpoint_identifier_ip.so",
        "res_pjsip_endpoint_identifier_user.so", "res_pjsip_registrar.so",
        "res_pjsip_sdp_rtp.so", "res_pjsip_caller_id.so", "res_pjsip_header_funcs.so",
        "res_pjsip_dtmf_info.so", "res_pjsip_rfc3326.so", "res_pjsip_logger.so",
        "res_pjsip_acl.so", "func_pjsip_endpoint.so", "res_pjsip_refer.so",
    ],
    "media": [
        "codec_ulaw.so", "codec_alaw.so", "format_wav.so", "format_pcm.so", "format_sln.so",
        "format_gsm.so", "codec_gsm.so",
    ],
    "bridging": [
        "bridge_simple.so", "bridge_native_rtp.so", "bridge_softmix.so",
        "bridge_holding.so", "bridge_builtin_features.so",
    ],
    "applications": [
        "app_dial.so", "app_playback.so", "app_queue.so", "app_stack.so", "app_echo.so",
        "app_record.so", "app_verbose.so", "app_mixmonitor.so", "app_chanspy.so",
        # Its AMI action ControlPlayback stops a greeting when a seat is offered meanwhile.
        "app_controlplayback.so",
        "res_agi.so", "res_speech.so", "app_exec.so",
    ],
    "records": ["cdr_csv.so"],
}


def modules_conf() -> str:
    lines = ["[modules]", "autoload = no", ""]
    for group, names in MODULES.items():
        lines.append(f"; {group}")
        lines.extend(f"load = {name}" for name in names)
        lines.append("")
    return "\n".join(lines)
