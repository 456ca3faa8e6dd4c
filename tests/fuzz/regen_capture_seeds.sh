#!/usr/bin/env bash
# tests/fuzz/regen_capture_seeds.sh BUILDDIR: replace the seeds captured from real calls
# (tests/fuzz/corpus/*/capture-*) with new ones (`meson compile -C BUILDDIR
# fuzz-capture-seeds` runs it). Two sources, each a real sipwarden from BUILDDIR:
#   - swpeer on both sides (tests/fuzz/capture_calls.sh: --capture files, SRTP media and
#     RTCP): capture-call-* (capture-call-out-*: calls out, from an agent to the trunk);
#   - the SIPp scenario pairs of tests/sipp/b2bua through their TLS wrappers (SIPp's
#     -trace_msg logs, kept with SW_SIPPB_KEEP=1): capture-sipp-* (skipped, with a note,
#     when sipp or socat is missing).
# tests/fuzz/capture2seeds.py turns each call into seeds for sip_stream, sip_msg, sdp, rtp
# and rtcp. New captures have new tags, keys and ports, so every run changes the files;
# commit them when a flow or the record format changed. fuzz_capture_seeds (meson test)
# then checks that each sip_stream seed still takes sipwarden through its call.
set -euo pipefail
build=$(cd "${1:?usage: regen_capture_seeds.sh BUILDDIR}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
corpus=$here/corpus
tmp=$(mktemp -d /tmp/sw-capseeds-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

rm -f "$corpus"/*/capture-*

"$here/capture_calls.sh" "$build" "$tmp/swpeer"
for t in "$tmp"/swpeer/*.trunk; do
	name=$(basename "$t" .trunk)
	a=$tmp/swpeer/$name.agent
	if [[ $name == call-out-* ]]; then # the agent calls out through the trunk's target
		python3 "$here/capture2seeds.py" --outbound "$corpus" "$name" "$a" "$t"
	elif [[ -s $a ]]; then
		python3 "$here/capture2seeds.py" "$corpus" "$name" "$t" "$a"
	else
		python3 "$here/capture2seeds.py" "$corpus" "$name" "$t"
	fi
done

if command -v sipp >/dev/null && command -v socat >/dev/null; then
	mkdir -p "$tmp/sipp"
	SW_SIPPB_KEEP=1 TMPDIR=$tmp/sipp SW_DAEMON=$build/daemon/sipwarden \
		SW_MKCERTS=$src/tools/mkcerts "$src/tests/sipp/b2bua" >"$tmp/sipp.out" 2>&1 ||
		{ cat "$tmp/sipp.out" >&2; echo "regen_capture_seeds: tests/sipp/b2bua failed" >&2; exit 1; }
	for d in "$tmp"/sipp/sw-sippb.*/[0-9]*; do
		# the pair's name from its scenarios: uac_cancel.xml + uas_noanswer.xml -> sipp-cancel-noanswer
		name=sipp-$(grep -o '^verdict [a-z0-9]* [a-z_0-9]*\.xml' "$d/run.out" | awk '{print $3}' |
			sed 's/\.xml$//; s/^ua[cs]_//' | paste -sd- | tr _ -)
		opt=()
		case $name in
		# driven by agent_timeout (a timer), or by a legacy_rtp trunk the harness lacks
		sipp-savp-call-noanswer-answer | sipp-legacy-plain-call-answer) opt=(--messages-only) ;;
		esac
		mapfile -t agents < <(ls "$d"/logs/uas*_messages.log | sort)
		python3 "$here/capture2seeds.py" "${opt[@]}" "$corpus" "$name" \
			"$d/logs/uac_messages.log" "${agents[@]}"
	done
else
	echo "regen_capture_seeds: sipp or socat missing, no capture-sipp-* seeds" >&2
fi
for t in "$corpus"/*/; do
	n=$(find "$t" -name 'capture-*' | wc -l)
	[[ $n -eq 0 ]] || echo "regen_capture_seeds: $(basename "$t"): $n capture seeds"
done
