"""Test speech: espeak-ng's Korean voice, as an 8 kHz WAV and as an RTP (PCMU) pcap.

Korean because the stand-in Vosk model is Korean (no Mandarin model can be installed
here). SIPp's play_pcap_audio sends a pcap's RTP to the far end's SDP address, from the
call's media port, at the pcap's own pace: a caller or a seat that speaks.
"""

from __future__ import annotations

import random
import struct
import subprocess
import wave
from pathlib import Path

RATE = 8000
SAMPLES_PER_PACKET = 160  # 20 ms of PCMU


def synthesise(text: str, wav: Path, voice: str = "ko") -> Path:
    """espeak-ng speaks the text; sox makes it 8 kHz 16-bit mono."""
    raw = wav.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(wav)],
                   check=True)
    raw.unlink()
    return wav


def long_recording(speech: Path, seconds: float, target: Path) -> Path:
    """A recording-like WAV of the given length: the speech, 1.5 s of silence, again."""
    with wave.open(str(speech), "rb") as source:
        pcm = source.readframes(source.getnframes())
    pause = b"\x00\x00" * int(1.5 * RATE)
    size = int(seconds * RATE) * 2
    repeats = size // (len(pcm) + len(pause)) + 1
    target.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(((pcm + pause) * repeats)[:size])
    return target


def _checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _udp_frame(payload: bytes) -> bytes:
    """Ethernet + IPv4 + UDP around an RTP packet (SIPp rewrites addresses and ports)."""
    udp = struct.pack("!HHHH", 40000, 40000, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
    return b"\x00" * 6 + b"\x00\x11\x22\x33\x44\x55" + b"\x08\x00" + ip + udp


def rtp_pcap(wav: Path, pcap: Path) -> Path:
    """The WAV as a pcap of PCMU RTP packets, 20 ms apart."""
    ulaw = subprocess.run(["sox", str(wav), "-r", str(RATE), "-c", "1", "-e", "mu-law",
                           "-t", "raw", "-"], check=True, capture_output=True).stdout
    ssrc = random.getrandbits(32)
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for n, start in enumerate(range(0, len(ulaw), SAMPLES_PER_PACKET)):
        chunk = ulaw[start:start + SAMPLES_PER_PACKET].ljust(SAMPLES_PER_PACKET, b"\xff")
        marker = 0x80 if n == 0 else 0
        rtp = struct.pack("!BBHII", 0x80, marker | 0, n & 0xFFFF,
                          (n * SAMPLES_PER_PACKET) & 0xFFFFFFFF, ssrc) + chunk
        frame = _udp_frame(rtp)
        usec = n * 20_000
        out.append(struct.pack("<IIII", 1_700_000_000 + usec // 1_000_000, usec % 1_000_000,
                               len(frame), len(frame)) + frame)
    pcap.write_bytes(b"".join(out))
    return pcap


def speech_pcap(text: str, folder: Path, name: str) -> tuple[Path, Path]:
    """(8 kHz WAV, RTP pcap) of the text, in folder."""
    folder.mkdir(parents=True, exist_ok=True)
    wav = synthesise(text, folder / f"{name}.wav")
    return wav, rtp_pcap(wav, folder / f"{name}.pcap")
