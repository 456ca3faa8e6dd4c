#!/usr/bin/env python3
"""capture2seeds.py: turn captures of real calls into fuzzer seeds.

    capture2seeds.py [--messages-only] OUTDIR NAME TRUNK_CAPTURE [AGENT_CAPTURE...]
    capture2seeds.py --outbound [--messages-only] OUTDIR NAME AGENT_CAPTURE TRUNK_CAPTURE

TRUNK_CAPTURE and each AGENT_CAPTURE are what the peers of one call through sipwarden
saw (the agents in the order sipwarden tried them): `swpeer --capture FILE` files (tools/swpeer/capture.c) or SIPp message logs
(`-trace_msg`, as tests/sipp/run --logdir keeps them). Writes, named capture-NAME-*:

  OUTDIR/sip_stream/  one input of fuzz_sip_stream replaying the call: every SIP message
                      a peer sent, in the order they were sent (time stamps of both
                      captures), the trunk's on slot 0 and the agents' on slots 3, 4, 5, as op 5
                      records. What sipwarden chose in the captured run and the peer
                      echoed back (its tag, the Call-ID and the Via branches of its
                      requests) becomes a placeholder (${tag}, ${callid},
                      ${branch:METHOD}) that the harness fills in with what sipwarden
                      chose in the replay, so ACK, BYE and the agent's responses still
                      match their dialog and transaction. All other bytes are the peer's.
  OUTDIR/sip_msg/     each SIP message of the call, either direction, verbatim, whose shape
                      (method or status, header names as written, in order) is not yet
                      among the capture-* seeds there;
  OUTDIR/sdp/         each SDP body whose shape (line types and attribute names, in
                      order) is new in the same way;
  OUTDIR/rtp/         the RTP packets and RTCP compounds a peer sent (plaintext: the capture
                      is taken before SRTP protect) in fuzz_rtp's format: mode 0 (RTP) or
                      1 (RTCP), suite 0 (AES_CM_128_HMAC_SHA1_80), the packet; one per
                      shape (header octets and length; packet types of a compound);
  OUTDIR/rtcp/        the RTCP compounds as they are (fuzz_rtcp's input), one per shape.

--outbound: a call out, placed by an agent presenting its pinned certificate (slot 6 of
the harness) through the trunk's target (the first connection sipwarden opens, slot 3).

--messages-only leaves out the sip_stream input: for a flow that the harness cannot
replay as it happened (one driven by sipwarden's timers, or by config the harness does
not have, such as a legacy RTP trunk).

Standard library only; run by tests/fuzz/regen_capture_seeds.sh.
"""
import hashlib
import os
import re
import struct
import sys
from datetime import datetime

TRUNK_SLOT, AGENT_SLOT, AGENT_IN_SLOT, OP_SUBST = 0, 3, 6, 5
COMPACT = {"f": "from", "t": "to", "i": "call-id", "v": "via", "l": "content-length"}


class Rec:
    def __init__(self, kind, sent, conn, usec, data):
        self.kind, self.sent, self.conn, self.usec, self.data = kind, sent, conn, usec, data


def read_swpeer(path):
    """Records of a swpeer --capture file."""
    recs, d, off = [], open(path, "rb").read(), 0
    while off < len(d):
        eol = d.index(b"\n", off)
        kind, direction, conn, usec, n = d[off:eol].decode().split()
        n = int(n)
        recs.append(Rec(kind, direction == ">", int(conn), int(usec), d[eol + 1:eol + 1 + n]))
        off = eol + 1 + n + 1
    return recs


SIPP_HEAD = re.compile(rb"^-{10,} (\d{4}-\d\d-\d\d)\s+(\d\d:\d\d:\d\d\.\d+)\r?\n"
                       rb"(?:TCP|UDP|TLS|SCTP) message (sent|received)[^\n]*\n\n?", re.M)


def read_sipp(path):
    """Records of a SIPp -trace_msg log: each message after a dashed line with its time."""
    d = open(path, "rb").read()
    heads = list(SIPP_HEAD.finditer(d))
    recs = []
    for i, h in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(d)
        body = d[h.end():end]
        # SIPp ends each logged message with a blank line of its own: keep the framed bytes
        for msg in split_stream(body):
            t = datetime.strptime((h.group(1) + b" " + h.group(2)).decode(), "%Y-%m-%d %H:%M:%S.%f")
            recs.append(Rec("SIP", h.group(3) == b"sent", 1, int(t.timestamp() * 1e6), msg))
    return recs


def split_stream(buf):
    """The SIP messages framed in buf (Content-Length), leading CRLFs skipped."""
    out = []
    while True:
        buf = buf.lstrip(b"\r\n")
        end = buf.find(b"\r\n\r\n")
        if not buf or end < 0:
            return out
        m = re.search(rb"^(?:content-length|l)[ \t]*:[ \t]*(\d+)", buf[:end], re.M | re.I)
        n = end + 4 + (int(m.group(1)) if m else 0)
        out.append(buf[:n])
        buf = buf[n:]


def read_capture(path):
    with open(path, "rb") as f:
        head = f.read(16)
    return read_swpeer(path) if head.startswith((b"SIP ", b"RTP ", b"RTCP ")) else read_sipp(path)


def headers(msg):
    """(start line, [(lower-case full name, value)]) of a SIP message."""
    head = msg.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = head.split("\r\n")
    out = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], out[-1][1] + " " + line.strip())
        elif ":" in line:
            name, value = line.split(":", 1)
            name = name.strip().lower()
            out.append((COMPACT.get(name, name), value.strip()))
    return lines[0], out


def first(hs, name):
    return next((v for n, v in hs if n == name), None)


def param(value, name):
    m = re.search(r";\s*" + name + r"\s*=\s*([^;,\s>]+)", value or "", re.I)
    return m.group(1) if m else None


def is_request(start):
    return not start.startswith("SIP/2.0")


def sipwarden_tokens(recs):
    """What sipwarden chose, as the peer of `recs` saw it: {token: placeholder name}."""
    tokens, seen_sent = {}, b""
    for r in recs:
        if r.kind != "SIP":
            continue
        if r.sent:
            seen_sent += r.data
            continue
        start, hs = headers(r.data)
        if is_request(start):
            method = start.split(" ", 1)[0]
            tag = param(first(hs, "from"), "tag")
            cid = first(hs, "call-id")
            if cid and cid.encode() not in seen_sent:
                tokens[cid] = "callid"
            via = first(hs, "via")
            branch = param(via.split(",")[0] if via else None, "branch")
            if branch and method != "ACK":
                tokens.setdefault(branch, [])
                if isinstance(tokens[branch], list) and method not in tokens[branch]:
                    tokens[branch].append(method)
        else:
            tag = param(first(hs, "to"), "tag")
        if tag:
            tokens[tag] = "tag"
    return tokens


def substitute(msg, tokens):
    """The message with sipwarden's tokens replaced by placeholders (header part only)."""
    if b"\r\n\r\n" in msg:
        head, body = msg.split(b"\r\n\r\n", 1)
        sep = b"\r\n\r\n"
    else:
        head, body, sep = msg, b"", b""
    start, hs = headers(msg)
    cseq_method = (first(hs, "cseq") or " ").split()[-1] if not is_request(start) else None
    text = head.decode("latin-1")
    for tok in sorted(tokens, key=len, reverse=True):
        what = tokens[tok]
        if isinstance(what, list):  # a Via branch: the method of the request it names
            method = cseq_method if cseq_method in what else what[-1]
            what = "branch:" + method
        text = text.replace(tok, "${" + what + "}")
    return text.encode("latin-1") + sep + body


def record(op, slot, payload):
    return struct.pack(">BBH", op, slot, len(payload)) + payload


def shape(target, data):
    """What makes a message or body new for sip_msg and sdp seeds: not its values."""
    if target == "sip_msg":
        head = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        start = head[0].split(b" ")
        kind = start[1] if start[0] == b"SIP/2.0" and len(start) > 1 else start[0]
        return (kind,) + tuple(l.split(b":", 1)[0] for l in head[1:]) + (b"\r\n\r\n" in data,)
    if target == "sdp":
        return tuple(re.sub(rb"^(a=[^:\r]*|[a-z]=).*", rb"\1", l) for l in data.split(b"\r\n"))
    if target == "rtp":  # mode, suite, then the RTP or RTCP packet
        return (data[:2],) + rtcp_shape(data[2:]) if data[:1] == b"\x01" else \
            (data[:2], data[2], data[3] & 0x7f, len(data))
    return rtcp_shape(data)


def rtcp_shape(pkt):
    """The (first octet, packet type) of each packet of an RTCP compound."""
    out, off = [], 0
    while off + 4 <= len(pkt):
        out.append((pkt[off], pkt[off + 1]))
        off += 4 * (struct.unpack(">H", pkt[off + 2:off + 4])[0] + 1)
    return tuple(out)


def known_shapes(outdir, target):
    d, out = os.path.join(outdir, target), set()
    if os.path.isdir(d):
        for f in os.listdir(d):
            if f.startswith("capture-"):
                out.add(shape(target, open(os.path.join(d, f), "rb").read()))
    return out


def write(outdir, target, name, data, written):
    d = os.path.join(outdir, target)
    os.makedirs(d, exist_ok=True)
    digest = hashlib.sha1(data).hexdigest()
    if (target, digest) in written:
        return
    written.add((target, digest))
    with open(os.path.join(d, f"capture-{name}"), "wb") as f:
        f.write(data)


def main():
    args = sys.argv[1:]
    outbound = "--outbound" in args[:2]
    stream_too = "--messages-only" not in args[:2]
    args = [a for a in args[:2] if a not in ("--outbound", "--messages-only")] + args[2:]
    if not 3 <= len(args) <= 6 or (outbound and len(args) != 4):
        sys.exit(__doc__)
    outdir, name = args[0], args[1]
    if outbound:  # (slot, label, capture)
        sides = [(AGENT_IN_SLOT, "agent", read_capture(args[2])),
                 (AGENT_SLOT, "trunk", read_capture(args[3]))]
    else:
        sides = [(TRUNK_SLOT, "trunk", read_capture(args[2]))]
        for i, path in enumerate(args[3:]):
            sides.append((AGENT_SLOT + i, f"agent{i + 1}", read_capture(path)))
    written = set()
    # sip_stream: the peers' messages in the order they were sent
    sent = []
    for slot, side, recs in sides:
        tokens = sipwarden_tokens(recs)
        sent += [(r.usec, slot, substitute(r.data, tokens)) for r in recs
                 if r.kind == "SIP" and r.sent]
    stream = b"".join(record(OP_SUBST, slot, msg) for _, slot, msg in sorted(sent, key=lambda s: s[0]))
    if stream_too:
        write(outdir, "sip_stream", name, stream, written)
    # sip_msg and sdp: each message and body of a shape not seen yet, as it was
    shapes = {t: known_shapes(outdir, t) for t in ("sip_msg", "sdp")}
    n = 0
    for slot, side, recs in sides:
        for r in recs:
            if r.kind != "SIP":
                continue
            n += 1
            body = r.data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in r.data else b""
            for target, data in (("sip_msg", r.data), ("sdp", body)):
                if (target == "sdp" and not body.startswith(b"v=0")) or \
                        shape(target, data) in shapes[target]:
                    continue
                shapes[target].add(shape(target, data))
                write(outdir, target, f"{name}-{n:02d}", data, written)
    # rtp and rtcp: RTP packets and RTCP compounds of a shape not seen yet (header octets
    # and length; packet types of a compound)
    shapes.update({t: known_shapes(outdir, t) for t in ("rtp", "rtcp")})
    for slot, side, recs in sides:
        for i, r in enumerate(r for r in recs if r.kind in ("RTP", "RTCP")):
            seeds = [("rtp", f"rtp-{i}", (b"\x00\x00" if r.kind == "RTP" else b"\x01\x00") + r.data)]
            if r.kind == "RTCP":
                seeds.append(("rtcp", f"{i}", r.data))
            for target, suffix, data in seeds:
                if shape(target, data) not in shapes[target]:
                    shapes[target].add(shape(target, data))
                    write(outdir, target, f"{name}-{side}-{suffix}", data, written)


if __name__ == "__main__":
    main()
