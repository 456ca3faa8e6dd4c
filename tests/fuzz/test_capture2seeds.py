#!/usr/bin/env python3
"""test_capture2seeds.py: capture2seeds.py on small hand-made captures of one call, in
both formats (swpeer --capture and a SIPp -trace_msg log with SIPp's stray lines): what
sipwarden chose becomes a placeholder in exactly the places a peer echoed it, the peers'
own identifiers and bodies stay as they were, and the records interleave by time."""
import os
import struct
import subprocess
import sys
import tempfile
import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
SDP = b"v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0\r\n"


def msg(head, body=b""):
    return head.replace(b"\n", b"\r\n") + b"Content-Length: %d\r\n\r\n" % len(body) + body


# trunk side: the trunk's INVITE, sipwarden's 200 (its tag swt4g), the trunk's ACK
T_INV = msg(b"INVITE sip:a@h SIP/2.0\nVia: SIP/2.0/TLS t;branch=z9hG4bKtrunk1\n"
            b"f: <sip:t@h>;tag=trunktag\nTo: <sip:a@h>\ni: trunk-call@h\nCSeq: 7 INVITE\n", SDP)
T_200 = msg(b"SIP/2.0 200 OK\nVia: SIP/2.0/TLS t;branch=z9hG4bKtrunk1\nFrom: <sip:t@h>;tag=trunktag\n"
            b"To: <sip:a@h>;tag=swt4g\nCall-ID: trunk-call@h\nCSeq: 7 INVITE\n", SDP)
T_ACK = msg(b"ACK sip:sw@h SIP/2.0\nVia: SIP/2.0/TLS t;branch=z9hG4bKtrunk2\n"
            b"f: <sip:t@h>;tag=trunktag\nTo: <sip:a@h>;tag=swt4g\ni: trunk-call@h\nCSeq: 7 ACK\n")
# agent side (SIPp): sipwarden's INVITE and CANCEL (same branch), the agent's answers
A_INV = msg(b"INVITE sip:a@h SIP/2.0\nVia: SIP/2.0/TLS s;branch=z9hG4bKswbr1;rport\n"
            b"From: <sip:t@h>;tag=swagtag\nTo: <sip:a@h>\nCall-ID: swcallid@h\nCSeq: 1 INVITE\n", SDP)
A_CAN = msg(b"CANCEL sip:a@h SIP/2.0\nVia: SIP/2.0/TLS s;branch=z9hG4bKswbr1\n"
            b"From: <sip:t@h>;tag=swagtag\nTo: <sip:a@h>\nCall-ID: swcallid@h\nCSeq: 1 CANCEL\n")
A_200C = msg(b"SIP/2.0 200 OK\nv: SIP/2.0/TLS s;branch=z9hG4bKswbr1;rport\nFrom: <sip:t@h>;tag=swagtag\n"
             b"To: <sip:a@h>;tag=agenttag\nCall-ID: swcallid@h\nCSeq: 1 CANCEL\n")
A_487 = msg(b"SIP/2.0 487 Request Terminated\nVia: SIP/2.0/TLS s;branch=z9hG4bKswbr1;rport\n"
            b"From: <sip:t@h>;tag=swagtag\nTo: <sip:a@h>;tag=agenttag\nCall-ID: swcallid@h\nCSeq: 1 INVITE\n")


def swpeer_rec(kind, d, usec, data):
    return b"%s %s 1 %d %d\n" % (kind, d, usec, len(data)) + data + b"\n"


def sipp_rec(when, d, data):
    verb = b"sent (%d bytes):" % len(data) if d == b">" else b"received [%d] bytes :" % len(data)
    return (b"Problem EAGAIN on socket  8 and poll_idx  is 1 \n----------------------------------"
            b"------------- 2026-12-04 22:15:12.%06d\nTCP message %s\n\n" % (when, verb) + data + b"\n\n")


def records(path):
    d, off, out = open(path, "rb").read(), 0, []
    while off < len(d):
        op, slot, n = struct.unpack(">BBH", d[off:off + 4])
        out.append((op, slot, d[off + 4:off + 4 + n]))
        off += 4 + n
    return out


def main():
    fails, n = [], [0]

    def check(what, cond):
        print(("ok   " if cond else "FAIL ") + what)
        n[0] += 1
        if not cond:
            fails.append(what)

    with tempfile.TemporaryDirectory() as tmp:
        trunk, agent = os.path.join(tmp, "t.cap"), os.path.join(tmp, "a.log")
        with open(trunk, "wb") as f:
            f.write(swpeer_rec(b"SIP", b">", 100, T_INV) + swpeer_rec(b"SIP", b"<", 500, T_200) +
                    swpeer_rec(b"SIP", b">", 600, T_ACK) + swpeer_rec(b"RTP", b">", 700, b"\x80\x00" + bytes(170)) +
                    swpeer_rec(b"RTCP", b">", 800, b"\x80\xc8\x00\x06" + bytes(24)))
        with open(agent, "wb") as f:
            f.write(sipp_rec(200, b"<", A_INV) + sipp_rec(300, b"<", A_CAN) +
                    sipp_rec(350, b">", A_200C) + sipp_rec(400, b">", A_487))
        # SIPp logs local wall-clock time (2026-12-04 22:15:12.000xxx above): put the
        # swpeer times on the same clock, so that the order is INVITE, 200 (CANCEL), 487, ACK
        t0 = int(datetime.datetime(2026, 12, 4, 22, 15, 12).timestamp() * 1e6)
        data = open(trunk, "rb").read()
        for usec in (100, 500, 600, 700, 800):
            data = data.replace(b" 1 %d " % usec, b" 1 %d " % (t0 + usec), 1)
        open(trunk, "wb").write(data)
        out = os.path.join(tmp, "out")
        subprocess.run([sys.executable, os.path.join(HERE, "capture2seeds.py"), out, "t", trunk, agent],
                       check=True)
        recs = records(os.path.join(out, "sip_stream", "capture-t"))
        check("four records, op 5, slots 0 3 3 0 (time order across captures)",
              [(op, s) for op, s, _ in recs] == [(5, 0), (5, 3), (5, 3), (5, 0)])
        inv, c200, r487, ack = (p for _, _, p in recs)
        check("the trunk's INVITE is as captured", inv == T_INV)
        check("ACK: sipwarden's tag is ${tag}, the trunk's own Call-ID and tag stay",
              b"To: <sip:a@h>;tag=${tag}\r\n" in ack and b"i: trunk-call@h\r\n" in ack and
              b"tag=trunktag" in ack)
        check("200 (CANCEL): ${branch:CANCEL}, ${tag}, ${callid}; compact v: kept; agent's tag stays",
              b"v: SIP/2.0/TLS s;branch=${branch:CANCEL};rport" in c200 and
              b"From: <sip:t@h>;tag=${tag}" in c200 and b"Call-ID: ${callid}" in c200 and
              b"tag=agenttag" in c200)
        check("487 (INVITE): ${branch:INVITE} (the CSeq method picks among equal branches)",
              b"branch=${branch:INVITE}" in r487)
        check("no identifier of sipwarden's left in any record",
              not any(tok in p for _, _, p in recs for tok in (b"swt4g", b"swagtag", b"swcallid", b"swbr1")))
        check("sip_msg seeds are verbatim messages", open(os.path.join(out, "sip_msg", "capture-t-01"), "rb").read() == T_INV)
        check("sdp seed is the body", open(os.path.join(out, "sdp", "capture-t-01"), "rb").read() == SDP)
        rtp = sorted(os.listdir(os.path.join(out, "rtp")))
        check("rtp seeds: mode 0 for RTP, 1 for RTCP, suite 0",
              [open(os.path.join(out, "rtp", f), "rb").read()[:2] for f in rtp] == [b"\x00\x00", b"\x01\x00"])
        check("rtcp seed is the compound", open(os.path.join(out, "rtcp", os.listdir(os.path.join(out, "rtcp"))[0]),
                                                "rb").read() == b"\x80\xc8\x00\x06" + bytes(24))
    print(f"{n[0] - len(fails)} passed, {len(fails)} failed")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
