#!/usr/bin/env bash
# tests/fuzz/capture_calls.sh BUILDDIR OUTDIR: place real calls through a real sipwarden
# between two swpeer processes (trunk side: swpeer call, agent side: swpeer answer), each
# with --capture, and leave OUTDIR/NAME.trunk and OUTDIR/NAME.agent per call flow for
# capture2seeds.py (calls out: NAME.agent is the caller). Everything runs on a random 127.x.y.z address, bounded by timeout(1);
# every process started here is stopped on exit. Run by tests/fuzz/regen_capture_seeds.sh.
set -euo pipefail
build=$(cd "$1" && pwd)
outdir=$2
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
peer=$build/tools/swpeer
sw=$build/daemon/sipwarden
work=$(mktemp -d /tmp/sw-capture-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
"$src/tools/mkcerts" "$work" >/dev/null 2>&1
ip=127.0.0.1
sport=$((20000 + RANDOM % 20000))
aport=$((sport + 1))

# flow NAME "AGENT OPTIONS" "CALLER OPTIONS": one call through a fresh daemon and agent.
# With out=1: a call out instead; the agent (swpeer call with the agent's certificate,
# pinned in [agent a1]) calls the trunk's target (swpeer answer with the trunk's).
out=0
flow() {
	local name=$1 aopts=$2 copts=$3 n=$((sport % 1000)) fp target=''
	local callee=(--cert "$work/agent.crt" --key "$work/agent.key") caller=() cname=agent
	local ename=trunk
	fp=$(openssl x509 -in "$work/agent.crt" -noout -fingerprint -sha256 | sed 's/.*=//')
	if [[ $out == 1 ]]; then
		target="target = $ip:$aport"
		callee=(--cert "$work/trunk.crt" --key "$work/trunk.key")
		caller=(--cert "$work/agent.crt" --key "$work/agent.key")
		cname=trunk ename=agent
	fi
	cat >"$work/sw.conf" <<CONF
[general]
log_level = info
[tls]
listen = $ip:$sport
certificate = $work/server.crt
private_key = $work/server.key
ca_file = $work/ca.crt
[media]
address = $ip
port_min = $((40000 + n * 20))
port_max = $((40000 + n * 20 + 19))
workers = 1
[telemetry]
socket = $work/tel.sock
control_socket = $work/ctl.sock
[pool]
probe_interval = 0
[trunk lab]
source = 127.0.0.0/8
$target
[agent a1]
address = $ip:$aport
server_name = agent.test
verify = yes
fingerprint = $fp
CONF
	# shellcheck disable=SC2086
	timeout 20 "$peer" answer --listen "$ip:$aport" "${callee[@]}" --calls 1 --timeout 15 \
		--rtcp-sdes --rtp-ports 50000-50999 --capture "$outdir/$name.$cname" $aopts \
		>"$work/agent.out" 2>&1 &
	local apid=$!
	pids+=("$apid")
	timeout 20 "$sw" -c "$work/sw.conf" -f 2>"$work/sw.log" &
	local spid=$!
	pids+=("$spid")
	# both listening (a probe connection is only a TLS handshake that fails)
	for port in "$aport" "$sport"; do
		for _ in $(seq 100); do
			(exec 3<>"/dev/tcp/$ip/$port") 2>/dev/null && break
			sleep 0.1
		done
	done
	# shellcheck disable=SC2086
	if ! timeout 20 "$peer" call --to "sip:+15550001@$ip:$sport" --ca "$work/ca.crt" \
		--tls-name localhost --timeout 15 --rtcp-sdes --rtp-ports 51000-51999 \
		"${caller[@]}" --capture "$outdir/$name.$ename" $copts >"$work/trunk.out" 2>&1; then
		echo "capture_calls: $name: the call failed" >&2
		cat "$work/trunk.out" "$work/agent.out" >&2
		tail -20 "$work/sw.log" >&2
		return 1
	fi
	kill -TERM "$apid" "$spid" 2>/dev/null || true
	wait "$apid" "$spid" 2>/dev/null || true
	echo "capture_calls: $name"
	sport=$((sport + 2)) aport=$((aport + 2))
}

flow call-trunk-bye "" "--duration 1"
flow call-agent-bye "--bye-after 0.6" "--duration 3"
flow call-early-media "--early-media --bye-after 0.6" "--duration 3"
flow call-hold-resume "" "--duration 1.5 --hold-after 0.4 --hold-for 0.3"
flow call-cancel "--mode noanswer" "--cancel-after 300 --expect 487"
flow call-rejected-486 "--mode reject=486" "--expect 486"
flow call-plain-offer-488 "" "--offer avp --expect 488"
out=1
flow call-out-agent-bye "" "--duration 1"
flow call-out-trunk-bye "--bye-after 0.6" "--duration 3"
