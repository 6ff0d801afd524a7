#!/usr/bin/env bash
# Side-by-side Modbus benchmarks (BENCHMARKS.md, items 2 and 3): metrig's client against
# libmodbus's and pymodbus's, reading the same `metrig sim serve` over TCP and over RTU on
# a pty; and metrig's simulated meter as a server against a libmodbus and a pymodbus server,
# all read by the same libmodbus client. Installs what it needs (libmodbus-dev, pymodbus,
# valgrind).
#   benches/peers/run.sh                    N=10000 requests each, ROUNDS=5 rounds;
#   N=2000 ROUNDS=3 INSTR=0 benches/peers/run.sh
# Measures for every contender, each divided by the N transactions (issue 20):
#   tps     transactions per second (swings 3× with the machine's load);
#   cpu     CPU time per transaction, µs (user + system): a client's own, getrusage around
#           its N requests; a server's, `perf stat -p` task-clock (ns) over the libmodbus
#           client's N requests (10 ms /proc ticks when perf is missing);
#   sys     system calls per transaction and cs context switches per transaction (`perf stat`
#           raw_syscalls:sys_enter and context-switches): what the kernel is asked to do,
#           which does not move with the load; a client's count is its whole process, start-up
#           included (≤ 0.03 a transaction at N = 10 000);
#   ins_u, ins_k, cycles   instructions retired (user, kernel) and cycles per transaction,
#           when the CPU's counters reach perf (not inside a VM without a virtual PMU: then
#           the columns are absent);
#   vg_ins  user-space instructions per transaction counted by valgrind (cachegrind), the
#           same on an idle and on a loaded machine: the difference between a run of NI1 and
#           one of NI2 transactions, so start-up cancels (INSTR=0 leaves it out; not for
#           pymodbus, whose interpreter takes minutes under valgrind).
# The machine is shared and its load moves within seconds, so every round runs each
# contender once, in turn; the summary gives each measure's median and range over the
# rounds, and metrig's ratio to each peer round by round (median and min–max).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-10000}
ROUNDS=${ROUNDS:-5}
INSTR=${INSTR:-1}
NI1=${NI1:-500}
NI2=${NI2:-1500}
results=$(mktemp)
export DEBIAN_FRONTEND=noninteractive
need=()
pkg-config --exists libmodbus 2>/dev/null || need+=(libmodbus-dev pkg-config)
if [ "$INSTR" = 1 ] && ! command -v valgrind >/dev/null; then need+=(valgrind); fi
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
python3 -c "import pymodbus, serial" 2>/dev/null || pip install -q pymodbus pyserial
out=target/peers
mkdir -p "$out"
for p in libmodbus_client libmodbus_server; do
  gcc -O2 -o "$out/$p" "benches/peers/$p.c" $(pkg-config --cflags --libs libmodbus)
done
# Building the bench builds target/release/metrig too (a bench selects the package's
# binaries); a separate `cargo build --release` would unify features differently and
# compile the workspace a second time. The bench binary is run itself, not through
# `cargo bench`: cargo's start-up would run on the same two cores between the contenders.
bench=$(cargo bench --no-run -q --bench modbus_client --message-format=json 2>/dev/null |
  python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "modbus_client":
        print(m["executable"])')
metrig=target/release/metrig

# The events perf can count here: software and tracepoint events need perf and
# perf_event_paranoid ≤ 1 (or root); hardware counters also need a PMU (bare metal, or a VM
# that passes one through).
events=""
if perf stat -x, -e task-clock,context-switches,raw_syscalls:sys_enter true >/dev/null 2>&1; then
  events="task-clock,context-switches,raw_syscalls:sys_enter"
  hw=$(perf stat -x, -e instructions:u,instructions:k,cycles true 2>&1 >/dev/null || true)
  case $hw in
    *"not supported"* | *"not counted"*) ;;
    *) events+=",instructions:u,instructions:k,cycles" ;;
  esac
fi
echo "perf events: ${events:-none (perf missing or not allowed)}"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# serve CMD... : starts a server in the background, waits for its first line (in $line),
# its process id in $pid.
serve() {
  local log; log=$(mktemp)
  "$@" >"$log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 200); do [ -s "$log" ] && break; sleep 0.05; done
  line=$(head -n 1 "$log")
}

serve "$metrig" sim serve --meter fixtures/meters/legrand-412083.toml --tcp 127.0.0.1:0
addr=$(echo "$line" | awk '{print $3}')
metrig_server=$pid
serve "$metrig" sim serve --meter fixtures/meters/legrand-412083.toml --rtu
pty=$(echo "$line" | awk '{print $3}')
port=$((20000 + RANDOM % 20000))
serve "$out/libmodbus_server" "$port"
libmodbus_server=$pid
port2=$((port + 1))
serve python3 benches/peers/pymodbus_server.py "$port2"
pymodbus_server=$pid
sleep 1

# ticks PID : user + system clock ticks the process has used so far.
ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
hz=$(getconf CLK_TCK)

# per_tx FILE N : perf's CSV counts in FILE as "key=value" a transaction.
per_tx() {
  python3 - "$1" "$2" <<'PY'
import sys
names = {"task-clock": "task_us", "context-switches": "cs", "raw_syscalls:sys_enter": "sys",
         "instructions:u": "ins_u", "instructions:k": "ins_k", "cycles": "cycles"}
n = float(sys.argv[2])
out = []
for line in open(sys.argv[1]):
    f = line.strip().split(",")
    if len(f) < 3 or f[2] not in names:
        continue
    try:
        v = float(f[0])
    except ValueError:
        continue
    if f[2] == "task-clock":
        v *= 1000.0  # msec to µs
    out.append(f"{names[f[2]]}={v / n:.2f}")
print(" ".join(out))
PY
}

# field KEY LINE : the number after "KEY=" in LINE, or nan.
field() { local v; v=$(echo "$2" | sed -n "s/.*$1=\([0-9.]*\).*/\1/p"); echo "${v:-nan}"; }

# note LABEL CMD... : runs a client (under perf stat when it works), echoes its line, keeps
# "LABEL | key=value ..." for the summary.
note() {
  local label=$1; shift
  local pf counts="" out_line
  pf=$(mktemp)
  if [ -n "$events" ]; then
    out_line=$(perf stat -x, -o "$pf" -e "$events" -- "$@" 2>/dev/null | grep tps= | tail -n 1) || true
    counts=$(per_tx "$pf" "$N")
  else
    out_line=$("$@" 2>/dev/null | grep tps= | tail -n 1) || true
  fi
  echo "  $label: $out_line | $counts"
  echo "$label | tps=$(field tps "$out_line") cpu=$(field cpu_us "$out_line") $counts" >>"$results"
}

# note_server LABEL PID PORT : the libmodbus client reads the server at PORT; the server's
# CPU per transaction (perf's task-clock, or its /proc ticks before and after).
note_server() {
  local label=$1 server=$2 port=$3
  local pf before after out_line cpu counts=""
  pf=$(mktemp)
  before=$(ticks "$server")
  if [ -n "$events" ]; then
    out_line=$(perf stat -x, -o "$pf" -e "$events" -p "$server" -- \
      "$out/libmodbus_client" tcp 127.0.0.1 "$port" "$N" 2>/dev/null | grep tps= | tail -n 1) || true
    counts=$(per_tx "$pf" "$N")
    cpu=$(field task_us "$counts")
  else
    out_line=$("$out/libmodbus_client" tcp 127.0.0.1 "$port" "$N" 2>/dev/null | grep tps= | tail -n 1) || true
    after=$(ticks "$server")
    cpu=$(python3 -c "print(f'{($after - $before) / $hz * 1e6 / $N:.2f}')")
  fi
  echo "  $label: tps=$(field tps "$out_line") server cpu_us=$cpu $counts (client: $out_line)"
  echo "$label | tps=$(field tps "$out_line") cpu=$cpu $counts" >>"$results"
}

# vg_run FILE CMD... : runs CMD under cachegrind (instruction count only), output in FILE.
vg_run() {
  local f=$1; shift
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$@" >"$f" 2>&1 || true
}
# irefs FILE : the instruction count valgrind reported in FILE.
irefs() { sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' "$1" | tr -d , | tail -n 1; }

# per_transaction LABEL COUNT_AT_NI1 COUNT_AT_NI2 : the user instructions one transaction adds
# (the difference of two runs cancels start-up and tear-down), printed and kept in $results.
per_transaction() {
  local label=$1 c1=$2 c2=$3
  if [ -n "$c1" ] && [ -n "$c2" ]; then
    local v; v=$(python3 -c "print(f'{($c2 - $c1) / ($NI2 - $NI1):.0f}')")
    echo "  $label: $v user instructions a transaction (valgrind, $NI1 → $NI2)"
    echo "$label | vg_ins=$v" >>"$results"
  else
    echo "  $label: valgrind gave no count"
  fi
}

# instr_client LABEL CMD... : each "@N" in CMD becomes the count, and METRIG_BENCH_N is
# set to it (valgrind follows no exec: CMD is the program itself, not a shell or env).
instr_client() {
  local label=$1; shift
  local n counts=()
  for n in "$NI1" "$NI2"; do
    local f args=() a; f=$(mktemp)
    for a in "$@"; do args+=("${a//@N/$n}"); done
    METRIG_BENCH_N=$n vg_run "$f" "${args[@]}"
    counts+=("$(irefs "$f")")
  done
  per_transaction "$label" "${counts[0]}" "${counts[1]}"
}

# instr_server LABEL KIND : starts the server under cachegrind twice, reads it NI1 then
# NI2 times with the libmodbus client, stops it with SIGTERM (valgrind writes its count).
instr_server() {
  local label=$1 kind=$2 n counts=()
  for n in "$NI1" "$NI2"; do
    local f p; f=$(mktemp)
    case $kind in
      metrig) valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
          "$metrig" sim serve --meter fixtures/meters/legrand-412083.toml --tcp 127.0.0.1:0 >"$f" 2>&1 &
        vp=$! ;;
      libmodbus) p=$((port + 2))
        valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
          "$out/libmodbus_server" "$p" >"$f" 2>&1 &
        vp=$! ;;
    esac
    pids+=("$vp")
    for _ in $(seq 400); do grep -q "^modbus tcp\|listening on" "$f" && break; sleep 0.05; done
    if [ "$kind" = metrig ]; then
      p=$(sed -n 's/^modbus tcp [0-9.]*:\([0-9]*\) .*/\1/p' "$f")
    fi
    "$out/libmodbus_client" tcp 127.0.0.1 "$p" "$n" >/dev/null 2>&1 || true
    kill -TERM "$vp" 2>/dev/null || true
    wait "$vp" 2>/dev/null || true
    counts+=("$(irefs "$f")")
  done
  per_transaction "$label" "${counts[0]}" "${counts[1]}"
}

for round in $(seq "$ROUNDS"); do
  echo "== round $round of $ROUNDS (N=$N, load average $(cut -d' ' -f1-3 /proc/loadavg))"
  echo "round $round" >>"$results"
  note "client tcp libmodbus" "$out/libmodbus_client" tcp 127.0.0.1 "${addr##*:}" "$N"
  note "client tcp pymodbus" python3 benches/peers/pymodbus_client.py tcp 127.0.0.1 "${addr##*:}" "$N"
  note "client tcp metrig" env METRIG_BENCH_TCP="$addr" METRIG_BENCH_N="$N" "$bench"
  note "client rtu libmodbus" "$out/libmodbus_client" rtu "$pty" 19200 N "$N"
  note "client rtu pymodbus" python3 benches/peers/pymodbus_client.py rtu "$pty" 19200 N "$N"
  # inter_frame_delay_ms = 0, as the others send (a pty has no wire).
  note "client rtu metrig" env METRIG_BENCH_RTU="$pty" METRIG_BENCH_RTU_GAP=0 METRIG_BENCH_N="$N" "$bench"
  note_server "server tcp metrig" "$metrig_server" "${addr##*:}"
  note_server "server tcp libmodbus" "$libmodbus_server" "$port"
  note_server "server tcp pymodbus" "$pymodbus_server" "$port2"
  if [ "$INSTR" = 1 ]; then
    instr_client "client tcp libmodbus" "$out/libmodbus_client" tcp 127.0.0.1 "${addr##*:}" @N
    METRIG_BENCH_TCP="$addr" instr_client "client tcp metrig" "$bench"
    instr_server "server tcp metrig" metrig
    instr_server "server tcp libmodbus" libmodbus
  fi
done

echo "== medians over $ROUNDS rounds (range); metrig's ratio to each peer, round by round"
echo "   (tps: above 1 metrig is faster; every other measure: below 1 metrig spends less)"
python3 - "$results" <<'PY'
import math, statistics, sys
rounds, cur = [], None
for line in open(sys.argv[1]):
    if line.startswith("round "):
        cur = {}
        rounds.append(cur)
        continue
    label, _, rest = line.partition(" | ")
    d = cur.setdefault(label.strip(), {})
    for kv in rest.split():
        k, _, v = kv.partition("=")
        try:
            d[k] = float(v)
        except ValueError:
            pass
keys = ["tps", "cpu", "sys", "cs", "vg_ins", "ins_u", "ins_k", "cycles"]
labels = []
for r in rounds:
    for k in r:
        if k not in labels:
            labels.append(k)
def vals(label, key):
    xs = [r.get(label, {}).get(key, math.nan) for r in rounds]
    return [x for x in xs if not math.isnan(x)]
def fmt(x):
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.2f}"
for label in labels:
    parts = []
    for k in keys:
        xs = vals(label, k)
        if xs:
            parts.append(f"{k} {fmt(statistics.median(xs))} ({fmt(min(xs))}–{fmt(max(xs))})")
    print(f"{label:22s} " + ";  ".join(parts))
print()
for role, transport in [("client", "tcp"), ("client", "rtu"), ("server", "tcp")]:
    m = f"{role} {transport} metrig"
    for peer in ["libmodbus", "pymodbus"]:
        p = f"{role} {transport} {peer}"
        parts = []
        for k in keys:
            ratios = [r[m][k] / r[p][k] for r in rounds
                      if k in r.get(m, {}) and k in r.get(p, {}) and r[p][k] > 0]
            if ratios:
                parts.append(f"{k} {statistics.median(ratios):.2f}x "
                             f"({min(ratios):.2f}–{max(ratios):.2f})")
        if parts:
            print(f"{role} {transport} metrig / {peer}: " + ";  ".join(parts))
PY
