#!/usr/bin/env python3
"""check_examples.py: conf/examples/ are valid and agree with what sipwarden exposes.

grafana-sipwarden.json must be JSON with unique panel ids, and every metric its queries
name must be one that lib/metrics.c writes (histograms through _bucket/_sum/_count).
vector.toml must be TOML (Debian has no Vector to run `vector validate`): the telemetry
source reads `sipwardenctl --json events`, every component's inputs exist, and the sink
is HTTP. Usage: check_examples.py SRCDIR. Exit 0 or 1 with the problems listed.
"""
import json
import re
import sys
import tomllib

src = sys.argv[1]
problems = []

with open(f"{src}/lib/metrics.c") as f:
    exposed = set(re.findall(r'"((?:sipwarden|process)_[a-z_]+)"', f.read()))
histograms = {"sipwarden_call_setup_seconds", "sipwarden_media_loss_ratio",
              "sipwarden_media_jitter_seconds", "sipwarden_media_mos"}
for h in histograms:
    if h not in exposed:
        problems.append(f"lib/metrics.c: histogram {h} not found")
    exposed |= {h + "_bucket", h + "_sum", h + "_count"}

with open(f"{src}/conf/examples/grafana-sipwarden.json") as f:
    dash = json.load(f)  # raises on invalid JSON
ids = set()
used = set()
for p in dash.get("panels", []):
    if p["id"] in ids:
        problems.append(f"grafana: panel id {p['id']} twice")
    ids.add(p["id"])
    if p["type"] == "row":
        continue
    if not p.get("targets"):
        problems.append(f"grafana: panel '{p['title']}' has no query")
    for t in p.get("targets", []):
        for name in re.findall(r"\b((?:sipwarden|process)_[a-z_]+)\b", t["expr"]):
            used.add(name)
            if name not in exposed:
                problems.append(f"grafana: panel '{p['title']}' uses unknown metric {name}")
for v in dash["templating"]["list"]:
    for name in re.findall(r"\b(sipwarden_[a-z_]+)\b", json.dumps(v.get("query", ""))):
        if name not in exposed:
            problems.append(f"grafana: variable {v['name']} uses unknown metric {name}")
if len(used) < 20:
    problems.append(f"grafana: only {len(used)} metrics used")

with open(f"{src}/conf/examples/vector.toml", "rb") as f:
    vec = tomllib.load(f)  # raises on invalid TOML
components = {}
for kind in ("sources", "transforms", "sinks"):
    components.update({k: (kind, v) for k, v in vec.get(kind, {}).items()})
srcs = [v for v in vec.get("sources", {}).values()]
if not any(s.get("type") == "exec" and "events" in s.get("command", []) and
           "--json" in s.get("command", []) for s in srcs):
    problems.append("vector: no exec source running sipwardenctl --json events")
for name, (kind, c) in components.items():
    for i in c.get("inputs", []):
        if i not in components or components[i][0] == "sinks":
            problems.append(f"vector: {name} reads unknown input {i}")
if not any(c.get("type") == "http" for c in vec.get("sinks", {}).values()):
    problems.append("vector: no http sink")

for p in problems:
    print(p, file=sys.stderr)
sys.exit(1 if problems else 0)
