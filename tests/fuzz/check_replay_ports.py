#!/usr/bin/env python3
"""check_replay_ports.py REPLAY_SIP_STREAM SEED: the sip_stream harness must not depend on
which loopback ports other processes hold. It used to listen and bind its media ports on
127.0.0.1 at a port derived from its pid (20000-52015), inside Linux's ephemeral range:
under a full parallel test run another test's connection could hold that port, and the
harness aborted at start (a capture seed's replay exited -6 with no output). Here every
listening port it could pick on 127.0.0.1 (20000 + 16k, k < 2000) is held by a listening
TCP socket while the seed is replayed; the replay must still pass. (Its media ports need
no such check: a call's pair is taken wherever the range has one free.) Exit status 0
when it does."""
import os
import resource
import socket
import subprocess
import sys
import tempfile


def main():
    exe, seed = sys.argv[1], sys.argv[2]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2100:
        if hard != resource.RLIM_INFINITY and hard < 2100:
            print(f"skipped: 2,100 file descriptors needed, the hard limit is {hard}")
            return 77
        resource.setrlimit(resource.RLIMIT_NOFILE, (2100, hard))
    held, busy = [], 0
    for port in range(20000, 20000 + 2000 * 16, 16):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", port))
            s.listen(1)
            held.append(s)
        except OSError:
            s.close()  # taken already, by somebody else: just as good
            busy += 1
    print(f"holding {len(held)} listening sockets on 127.0.0.1 ({busy} ports were taken "
          "already)")
    with tempfile.TemporaryDirectory(prefix="sw-ports-") as tmp:
        env = dict(os.environ, SW_FUZZ_TRACE="1", TMPDIR=tmp)
        p = subprocess.run([exe, seed], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
    for s in held:
        s.close()
    out = p.stdout.decode("utf-8", "replace").splitlines()
    sent = [l for l in out if l.startswith("slot ")]
    if p.returncode != 0 or not sent:
        print(f"FAIL: the replay exited {p.returncode} after sending {len(sent)} messages; "
              "its last lines:")
        print("\n".join("    " + l for l in out[-25:]))
        return 1
    print(f"ok: the replay exited 0 and sipwarden sent {len(sent)} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
