#!/usr/bin/env python3
"""Writes spec/vectors.json from an independent reference (Python's zlib.crc32 and a COBS
written from the paper), so the TypeScript implementation is checked against a second one.
Run: python3 firmware-bridge/spec/make-vectors.py > firmware-bridge/spec/vectors.json"""
import json
import struct
import zlib


def cobs(data: bytes) -> bytes:
    out, block = bytearray(), bytearray()
    for i, b in enumerate(data):
        if b == 0:
            out += bytes([len(block) + 1]) + block
            block = bytearray()
            continue
        block.append(b)
        if len(block) == 254 and i + 1 < len(data):
            out += b"\xff" + block
            block = bytearray()
    return bytes(out + bytes([len(block) + 1]) + block)


def frame(flags: int, seq: int, typ: int, payload: bytes) -> bytes:
    body = bytes([flags, seq, typ]) + payload
    return cobs(body + struct.pack("<I", zlib.crc32(body))) + b"\x00"


def hx(b: bytes) -> str:
    return b.hex()


COBS_CASES = [
    ("00", "0101"),
    ("0000", "010101"),
    ("00110000", "0102110101"),
    ("11220033", "0311220233"),
    ("11223344", "0511223344"),
    ("11000000", "0211010101"),
    (hx(bytes(range(1, 255))), "ff" + hx(bytes(range(1, 255)))),
    (hx(bytes(range(0, 255))), "01ff" + hx(bytes(range(1, 255)))),
    (hx(bytes(range(1, 256))), "ff" + hx(bytes(range(1, 255))) + "02ff"),
    (hx(bytes(range(2, 256)) + b"\x00"), "ff" + hx(bytes(range(2, 256))) + "0101"),
    (hx(bytes(range(3, 256)) + b"\x00\x01"), "fe" + hx(bytes(range(3, 256))) + "0201"),
]
for dec, enc in COBS_CASES:
    assert hx(cobs(bytes.fromhex(dec))) == enc, dec

u64 = lambda v: struct.pack("<Q", v)
MESSAGES = [
    ("hello", "command", {"type": "hello", "version": 1}, 0x01, "01"),
    ("ping", "command", {"type": "ping"}, 0x02, ""),
    ("wdt-arm 10 s", "command", {"type": "wdt-arm", "timeoutMs": 10000}, 0x10, hx(struct.pack("<I", 10000))),
    ("wdt-kick", "command", {"type": "wdt-kick"}, 0x11, ""),
    ("wdt-disarm", "command", {"type": "wdt-disarm"}, 0x12, ""),
    ("led tamper", "command", {"type": "led", "state": "tamper"}, 0x20, "03"),
    ("led-code 3", "command", {"type": "led-code", "code": 3}, 0x21, "03"),
    ("led-code none", "command", {"type": "led-code", "code": 0}, 0x21, "00"),
    ("rtc-get", "command", {"type": "rtc-get"}, 0x30, ""),
    ("rtc-set", "command", {"type": "rtc-set", "unixMs": 1767225600000}, 0x31, hx(u64(1767225600000))),
    ("power-cycle 500 ms", "command", {"type": "power-cycle", "offMs": 500}, 0x40, hx(struct.pack("<H", 500))),
    ("boot by watchdog", "event", {"type": "boot", "reason": "watchdog", "bootCount": 7}, 0x80, "01" + hx(struct.pack("<I", 7))),
    ("long press", "event", {"type": "button", "press": "long", "durationMs": 2500}, 0x81, "01" + hx(struct.pack("<H", 2500))),
    ("log line", "event", {"type": "log", "level": "warn", "text": "vbat low"}, 0x82, "02" + hx(b"vbat low")),
    # §5.1: an MCU decodes a HELLO of any version (and answers with its own).
    ("HELLO of version 99", "command", {"type": "hello", "version": 99}, 0x01, "63"),
    # §5.5: the flag decides; the held time is information only.
    ("flag and duration disagree", "event", {"type": "button", "press": "short", "durationMs": 5000}, 0x81, "00" + hx(struct.pack("<H", 5000))),
    ("long flag, short hold", "event", {"type": "button", "press": "long", "durationMs": 100}, 0x81, "01" + hx(struct.pack("<H", 100))),
]

# Decode only (the host's reading of what an MCU may send; not a round trip).
LENIENT = [
    # §5.5: LOG text that is not UTF-8 is kept, each invalid sequence becoming U+FFFD.
    ("log not UTF-8", "event", 0x82, "01" + "ff" + hx(b"ok") + "c3", {"type": "log", "level": "info", "text": "\ufffdok\ufffd"}),
]

# ACK payloads the host decodes (§5.1, §5.3).
REPLIES = [
    ("rtc valid", "rtc", hx(u64(1767225600000)) + "01", {"unixMs": 1767225600000, "valid": True}),
    ("rtc invalid reads 0", "rtc", hx(u64(0)) + "00", {"unixMs": 0, "valid": False}),
    ("rtc invalid with a stale value: ignored", "rtc", hx(u64(1767225600000)) + "00", {"unixMs": 0, "valid": False}),
    ("identity of a v2 MCU (host refuses with E_SERIAL_VERSION)", "identity",
     "02" + hx(bytes([8]) + b"SIM-0002" + bytes([5]) + b"fw2.0" + struct.pack("<I", 3)),
     {"version": 2, "serial": "SIM-0002", "firmware": "fw2.0", "bootCount": 3}),
]

# §4.1: retransmission budgets; maxAttempts counts transmissions, the first included.
BUDGETS = {
    "host": {"ackTimeoutMs": 200, "maxAttempts": 5, "transmissions": 5},
    "mcu": {"ackTimeoutMs": 100, "maxAttempts": 20, "transmissions": 20},
}

FRAMES = [
    ("HELLO with SYN", 0x02, 0x2A, 0x01, b"\x01"),
    ("ACK of HELLO with identity", 0x01, 0x2A, 0x01, bytes([1, 8]) + b"SIM-0001" + bytes([9]) + b"sim-1.0.0" + struct.pack("<I", 1)),
    ("WDT_KICK", 0x00, 0x00, 0x11, b""),
    ("RTC_SET (payload with zeros)", 0x00, 0xFF, 0x31, u64(1767225600000)),
    ("NAK bad-state", 0x01, 0x05, 0xFF, b"\x03"),
    ("largest payload", 0x00, 0x10, 0x82, bytes([1]) + bytes((i % 255) + 1 for i in range(239))),
]


def bad_crc() -> str:
    body = bytes([0, 1, 0x11])
    return hx(cobs(body + struct.pack("<I", zlib.crc32(body) ^ 1)))


def with_crc(body: bytes) -> str:
    return hx(cobs(body + struct.pack("<I", zlib.crc32(body))))


REJECTS = [
    ("crc mismatch", bad_crc(), "crc"),
    ("cobs code past the end", "05112233", "cobs"),
    ("empty block", "01", "short"),
    ("short body", hx(cobs(b"\x00\x01\x02\x03")), "short"),
    ("reserved flag bit", with_crc(bytes([0x04, 1, 0x11])), "flags"),
    ("oversize block", "ff" * 260, "oversize"),
    # §3: an ACK never carries SYN.
    ("ACK with SYN", with_crc(bytes([0x03, 1, 0x11])), "flags"),
    # §2/§3: 240 bytes of payload at most; the block of a 241-byte payload is 249 bytes > 248.
    ("payload of 241 bytes", with_crc(bytes([0, 1, 0x82]) + bytes([1]) + bytes((i % 255) + 1 for i in range(240))), "oversize"),
]

MESSAGE_REJECTS = [
    ("unknown command type", "command", 0x7E, ""),
    ("wdt-arm below minimum", "command", 0x10, hx(struct.pack("<I", 99))),
    ("led state out of range", "command", 0x20, "04"),
    ("led code over 9", "command", 0x21, "0a"),
    ("led code without its byte", "command", 0x21, ""),
    ("rtc-set too short", "command", 0x31, "0102"),
    ("ping with trailing bytes", "command", 0x02, "00"),
    ("rtc-set beyond safe integer", "command", 0x31, "ffffffffffffffff"),
    ("unknown event type", "event", 0x90, ""),
    ("button kind out of range", "event", 0x81, "02" + "0000"),
]

print(json.dumps({
    "crc32": [{"ascii": "123456789", "crc": "cbf43926"}],
    "cobs": [{"decoded": d, "encoded": e} for d, e in COBS_CASES],
    "frames": [{"name": n, "flags": f, "seq": s, "type": t, "payload": hx(p), "wire": hx(frame(f, s, t, p))} for n, f, s, t, p in FRAMES],
    "messages": [{"name": n, "kind": k, "message": m, "type": t, "payload": p} for n, k, m, t, p in MESSAGES],
    "frameRejects": [{"name": n, "block": b, "code": "E_SERIAL_FRAME", "reason": r} for n, b, r in REJECTS],
    "messageRejects": [{"name": n, "kind": k, "type": t, "payload": p, "code": "E_SERIAL_MESSAGE"} for n, k, t, p in MESSAGE_REJECTS],
    "lenient": [{"name": n, "kind": k, "type": t, "payload": p, "message": m} for n, k, t, p, m in LENIENT],
    "replies": [{"name": n, "reply": r, "payload": p, "value": v} for n, r, p, v in REPLIES],
    "budgets": BUDGETS,
}, indent=1))
