#!/usr/bin/env python3
"""check_capture_seeds.py REPLAY_SIP_STREAM CORPUS_DIR: the seeds captured from real calls
(corpus/sip_stream/capture-*, made by capture2seeds.py) must take sipwarden through the
whole call, not stop at the first message it cannot match. Each is replayed alone with
SW_FUZZ_TRACE=1, and what sipwarden sent (the harness's "slot N <- ..." lines, with the
CSeq in brackets) must contain the lines expected for that flow, in order, and no 481
(a request or response that did not match its dialog or transaction). Each replay runs
with a TMPDIR of its own, which it must leave empty (the harness's certificates, keys and
config must not pile up in /tmp). Every capture seed needs an entry in EXPECT. Exit status
0 when all hold."""
import os
import re
import subprocess
import sys
import tempfile

OK_INVITE = r"slot 0 <- SIP/2\.0 200 .*INVITE\]"
EXPECT = {
    # the agent answers; the trunk hangs up, sipwarden relays the BYE to the agent
    "call-trunk-bye": [OK_INVITE, r"slot 0 <- SIP/2\.0 200 .*BYE\]", r"slot 3 <- BYE"],
    # the agent hangs up: sipwarden answers it and sends BYE to the trunk
    "call-agent-bye": [OK_INVITE, r"slot 3 <- SIP/2\.0 200 .*BYE\]", r"slot 0 <- BYE"],
    "call-early-media": [r"slot 0 <- SIP/2\.0 183", OK_INVITE, r"slot 0 <- BYE"],
    # two re-INVITEs from the trunk (hold, resume), each relayed and answered
    "call-hold-resume": [OK_INVITE, r"slot 3 <- INVITE", OK_INVITE, r"slot 3 <- INVITE",
                         OK_INVITE, r"slot 3 <- BYE"],
    # CANCEL from the trunk: 487 to it, CANCEL to the agent, ACK for the agent's 487
    "call-cancel": [r"slot 0 <- SIP/2\.0 487", r"slot 3 <- CANCEL", r"slot 3 <- ACK"],
    "call-rejected-486": [r"slot 3 <- ACK", r"slot 0 <- SIP/2\.0 486"],
    "call-plain-offer-488": [r"slot 0 <- SIP/2\.0 488"],
    # calls out: the agent (slot 6, pinned certificate) calls through the trunk's target
    # (slot 3); then the agent or the trunk hangs up
    "call-out-agent-bye": [r"slot 3 <- INVITE", r"slot 6 <- SIP/2\.0 200 .*INVITE\]",
                           r"slot 6 <- SIP/2\.0 200 .*BYE\]", r"slot 3 <- BYE"],
    "call-out-trunk-bye": [r"slot 3 <- INVITE", r"slot 6 <- SIP/2\.0 200 .*INVITE\]",
                           r"slot 3 <- SIP/2\.0 200 .*BYE\]", r"slot 6 <- BYE"],
    # SIPp scenario pairs of tests/sipp/b2bua (TLS wrappers; uac_X + uas_Y: sipp-X-Y)
    "sipp-savp-call-answer": [OK_INVITE, r"slot 0 <- SIP/2\.0 200 .*BYE\]", r"slot 3 <- BYE"],
    "sipp-plain-offer-488-answer": [r"slot 0 <- SIP/2\.0 488"],
    "sipp-cancel-noanswer": [r"slot 0 <- SIP/2\.0 487", r"slot 3 <- CANCEL", r"slot 3 <- ACK"],
    "sipp-wait-bye-answer-then-bye": [OK_INVITE, r"slot 3 <- SIP/2\.0 200 .*BYE\]",
                                      r"slot 0 <- BYE"],
    # agent 1 answers 503: ACK, failover to agent 2 (slot 4), which answers
    "sipp-savp-call-503-answer": [r"slot 3 <- ACK", r"slot 4 <- INVITE", OK_INVITE,
                                  r"slot 4 <- BYE"],
    "sipp-expect-503-or-200-503-503": [r"slot 3 <- ACK", r"slot 4 <- INVITE", r"slot 4 <- ACK",
                                       r"slot 0 <- SIP/2\.0 503"],
    "sipp-reinvite-hold-resume-answer": [OK_INVITE, r"slot 3 <- INVITE", OK_INVITE,
                                         r"slot 3 <- INVITE", OK_INVITE, r"slot 3 <- BYE"],
    # a weaker re-offer is refused with 488, not relayed; the call goes on to its BYE
    "sipp-reinvite-downgrade-answer": [OK_INVITE, r"slot 0 <- SIP/2\.0 488 .*INVITE\]",
                                       r"slot 0 <- SIP/2\.0 200 .*BYE\]", r"slot 3 <- BYE"],
    "sipp-reinvite-weaker-suite-answer": [OK_INVITE, r"slot 0 <- SIP/2\.0 488 .*INVITE\]",
                                          r"slot 0 <- SIP/2\.0 200 .*BYE\]", r"slot 3 <- BYE"],
}


def main():
    exe, corpus = sys.argv[1], sys.argv[2]
    seeds = sorted(f for f in os.listdir(corpus) if f.startswith("capture-"))
    bad = 0
    if not seeds:
        print("check_capture_seeds: no capture-* seeds in " + corpus)
        return 1
    for seed in seeds:
        flow = seed[len("capture-"):]
        if flow not in EXPECT:
            print(f"FAIL {seed}: no expectation for this flow in {__file__}")
            bad += 1
            continue
        with tempfile.TemporaryDirectory(prefix="sw-capture-") as tmp:
            env = dict(os.environ, SW_FUZZ_TRACE="1", TMPDIR=tmp)
            p = subprocess.run([exe, os.path.join(corpus, seed)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
            left = sorted(os.listdir(tmp))
        sent = [l for l in p.stdout.decode("utf-8", "replace").splitlines()
                if re.match(r"slot \d <- ", l)]
        want, i = EXPECT[flow], 0
        for line in sent:
            if i < len(want) and re.match(want[i], line):
                i += 1
        why = None
        if p.returncode != 0:
            why = f"replay exited {p.returncode}"
        elif left:
            why = f"the replay left {', '.join(left)} in its TMPDIR"
        elif any(re.match(r"slot \d <- SIP/2\.0 481", l) for l in sent):
            why = "sipwarden answered 481: " + next(l for l in sent if " 481" in l)
        elif i < len(want):
            why = f"sipwarden never sent /{want[i]}/ (after {i} of {len(want)} expected lines)"
        print(f"{'FAIL' if why else 'ok  '} {seed}" + (f": {why}" if why else ""))
        if why:
            bad += 1
            print("\n".join("    " + l for l in sent))
            if p.returncode != 0:  # what ended it (a sanitizer's report, a setup failure)
                out = p.stdout.decode("utf-8", "replace").splitlines()
                print("    its last lines:\n" + "\n".join("    | " + l for l in out[-30:]))
    print(f"{len(seeds) - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
