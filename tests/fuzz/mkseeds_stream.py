#!/usr/bin/env python3
"""Write the seed inputs of fuzz_sip_stream (record format in fuzz_sip_stream.c) to
corpus/sip_stream/. Run from tests/fuzz when the record format or the flows change.
The capture-* seeds next to them come from real calls instead: regen_capture_seeds.sh."""
import os, struct

SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 40000 RTP/SAVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
       "a=sendrecv\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n")

def invite(cid="st-1", branch="z9hG4bKst1", user="alice", extra=""):
    return (f"INVITE sip:+15551234@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:40000;branch={branch}\r\n"
            f"Max-Forwards: 70\r\nFrom: \"Alice\" <sip:{user}@127.0.0.1>;tag=tr1\r\nTo: <sip:+15551234@127.0.0.1>\r\n"
            f"Call-ID: {cid}\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:40000;transport=tls>\r\n"
            f"X-Case: 42\r\n{extra}Content-Type: application/sdp\r\nContent-Length: {len(SDP)}\r\n\r\n{SDP}")

def cancel(cid="st-1", branch="z9hG4bKst1"):
    return (f"CANCEL sip:+15551234@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:40000;branch={branch}\r\n"
            f"Max-Forwards: 70\r\nFrom: \"Alice\" <sip:alice@127.0.0.1>;tag=tr1\r\nTo: <sip:+15551234@127.0.0.1>\r\n"
            f"Call-ID: {cid}\r\nCSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n")

def rec(op, slot, payload=b""):
    if isinstance(payload, str):
        payload = payload.encode()
    return struct.pack(">BBH", op, slot, len(payload)) + payload

RAW, RESP, REQ, HANGUP, LOOP = 0, 1, 2, 3, 4
# op 1 status table index: 100=0 180=1 183=2 200=3 ... 486=10 487=11 488=12 491=13 500=14 503=15
S180, S183, S200, S486, S503 = 1, 2, 3, 10, 15
# op 2 method index: BYE=0 INVITE=1 UPDATE=2 INFO=3 ACK=4 OPTIONS=5 CANCEL=6 PRACK=7
BYE, REINVITE, UPDATE, INFO, ACK, OPTIONS, PRACK = 0, 1, 2, 3, 4, 5, 7
# op 1 payload[1]: bit 0 an SRTP answer, bit 1 a reliable 1xx (RSeq 1 + payload[1] / 4)
REL = 2
T, T2, STRANGER, AG1, AG2 = 0, 1, 2, 3, 4

answered = (rec(RAW, T, invite()) + rec(LOOP, 0) + rec(RESP, AG1, bytes([S180, 0])) +
            rec(RESP, AG1, bytes([S200, 1])) + rec(REQ, T, bytes([ACK])))
seeds = {
    "call-trunk-bye": answered + rec(REQ, T, bytes([BYE])),
    "call-agent-bye": answered + rec(REQ, AG1, bytes([BYE])),
    "call-reinvite-from-trunk": answered + rec(REQ, T, bytes([REINVITE, 1])) +
        rec(RESP, AG1, bytes([S200, 1])) + rec(REQ, T, bytes([ACK])) + rec(REQ, T, bytes([BYE])),
    "call-update-info-from-agent": answered + rec(REQ, AG1, bytes([UPDATE, 1])) +
        rec(RESP, T, bytes([S200, 1])) + rec(REQ, AG1, bytes([INFO])) + rec(RESP, T, bytes([S200, 0])),
    "call-early-media-cancel": rec(RAW, T, invite()) + rec(RESP, AG1, bytes([S183, 1])) +
        rec(RAW, T, cancel()) + rec(RESP, AG1, bytes([11, 0])),
    "call-failover": rec(RAW, T, invite()) + rec(RESP, AG1, bytes([S503, 0])) +
        rec(RESP, AG2, bytes([S200, 1])) + rec(REQ, T, bytes([ACK])) + rec(REQ, AG2, bytes([BYE])),
    "call-refused-486": rec(RAW, T, invite()) + rec(RESP, AG1, bytes([S486, 0])),
    "call-agent-hangs-up-connection": answered + rec(HANGUP, AG1) + rec(LOOP, 0),
    "call-trunk-hangs-up-connection": rec(RAW, T, invite()) + rec(HANGUP, T) + rec(LOOP, 0),
    "call-in-dialog-from-other-connection": answered + rec(RAW, T2, "\r\n\r\n") + rec(REQ, STRANGER, bytes([BYE])),
    "stranger-invite": rec(RAW, STRANGER, invite(cid="st-2")),
    "options-keepalive": rec(RAW, T, "\r\n\r\nOPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:40000;branch=z9hG4bKo1\r\n"
        "Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"),
    "two-calls": answered + rec(RAW, T, invite(cid="st-3", branch="z9hG4bKst3")) +
        rec(RESP, AG1, bytes([S200, 1])) + rec(REQ, T, bytes([BYE])),
}
os.makedirs("corpus/sip_stream", exist_ok=True)
for name, data in seeds.items():
    with open(f"corpus/sip_stream/{name}", "wb") as f:
        f.write(data)
# Issue 8 item 1 (a response without CSeq from any client killed the daemon)
HOSTILE = {
    "hostile-response-without-cseq": rec(RAW, STRANGER, "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n") +
        rec(RAW, T, "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n"),
}
# Issue 10 item 3: reliable provisional responses (RFC 3262) on both legs
REQ100REL = "Require: 100rel\r\nSupported: 100rel\r\n"
PRACK_FLOWS = {
    # the trunk requires 100rel: sipwarden's 180 is reliable, the trunk PRACKs it
    "prack-trunk-requires-100rel": rec(RAW, T, invite(extra=REQ100REL)) + rec(LOOP, 0) +
        rec(RESP, AG1, bytes([S180, 0])) + rec(REQ, T, bytes([PRACK])) +
        rec(RESP, AG1, bytes([S200, 1])) + rec(REQ, T, bytes([ACK])) + rec(REQ, T, bytes([BYE])),
    # early media in the reliable 183: the agent's 200 waits for the trunk's PRACK
    "prack-early-media-2xx-held": rec(RAW, T, invite(extra=REQ100REL)) + rec(LOOP, 0) +
        rec(RESP, AG1, bytes([S183, 1])) + rec(RESP, AG1, bytes([S200, 1])) +
        rec(REQ, T, bytes([PRACK])) + rec(REQ, T, bytes([ACK])) + rec(REQ, AG1, bytes([BYE])),
    # the agent sends a reliable 183 (twice: the copy is not PRACKed again), then 200
    "prack-agent-reliable-183": rec(RAW, T, invite()) + rec(LOOP, 0) +
        rec(RESP, AG1, bytes([S183, 1 | REL])) + rec(RESP, AG1, bytes([S183, 1 | REL])) +
        rec(RESP, AG1, bytes([S180, REL | 4])) + rec(RESP, AG1, bytes([S200, 1])) +
        rec(REQ, T, bytes([ACK])) + rec(REQ, T, bytes([BYE])),
    # one unacknowledged at a time: the 183 with SDP waits for the 180's PRACK, then goes
    # reliably (next RSeq) and the 2xx waits for its PRACK
    "prack-183-queued-behind-180": rec(RAW, T, invite(extra=REQ100REL)) + rec(LOOP, 0) +
        rec(RESP, AG1, bytes([S180, 0])) + rec(RESP, AG1, bytes([S183, 1])) +
        rec(RESP, AG1, bytes([S180, 0])) + rec(REQ, T, bytes([PRACK])) +
        rec(RESP, AG1, bytes([S200, 1])) + rec(REQ, T, bytes([PRACK])) +
        rec(REQ, T, bytes([ACK])) + rec(REQ, T, bytes([BYE])),
    # late offer: the agent's reliable 183 with an offer is neither PRACKed nor relayed;
    # the offer in its 200 is taken as usual
    "prack-offer-in-reliable-183-ignored": rec(RAW, T, invite().split("Content-Type:")[0] +
        "Content-Length: 0\r\n\r\n") + rec(LOOP, 0) +
        rec(RESP, AG1, bytes([S183, REL]) + SDP.encode()) +
        rec(RESP, AG1, bytes([S200, 0]) + SDP.encode()) + rec(REQ, T, bytes([ACK])) +
        rec(REQ, T, bytes([BYE])),
    # failover: the next agent's reliable 183 starts its own RSeq space and is PRACKed
    "prack-failover-new-rseq": rec(RAW, T, invite()) + rec(LOOP, 0) +
        rec(RESP, AG1, bytes([S183, 1 | REL | 4 * 9])) + rec(RESP, AG1, bytes([S503, 0])) +
        rec(RESP, AG2, bytes([S183, 1 | REL])) + rec(RESP, AG2, bytes([S200, 1])) +
        rec(REQ, T, bytes([ACK])) + rec(REQ, T, bytes([BYE])),
    # both: reliable on each leg, a PRACK in no dialog (481), the right one, a CANCEL
    "prack-both-legs-cancel": rec(RAW, T, invite(extra=REQ100REL)) + rec(LOOP, 0) +
        rec(RESP, AG1, bytes([S183, 1 | REL])) + rec(REQ, T, bytes([PRACK])) + rec(RAW, T, "PRACK sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:40000;branch=z9hG4bKp1\r\n"
        "Max-Forwards: 70\r\nFrom: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:x@127.0.0.1>;tag=2\r\nCall-ID: p1\r\n"
        "CSeq: 2 PRACK\r\nRAck: 1 1 INVITE\r\nContent-Length: 0\r\n\r\n") +
        rec(RAW, T, cancel()) + rec(RESP, AG1, bytes([11, 0])),
}
for name, data in PRACK_FLOWS.items():
    with open(f"corpus/sip_stream/{name}", "wb") as f:
        f.write(data)
for name, data in HOSTILE.items():
    with open(f"corpus/sip_stream/{name}", "wb") as f:
        f.write(data)
