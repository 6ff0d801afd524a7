#!/usr/bin/env bash
# Side-by-side Modbus benchmarks (BENCHMARKS.md, items 2 and 3): metrig's client against
# libmodbus's and pymodbus's, reading the same `metrig sim serve` over TCP and over RTU on
# a pty; and metrig's simulated meter as a server against a libmodbus and a pymodbus server,
# all read by the same libmodbus client. Installs what it needs (libmodbus-dev, pymodbus).
#   benches/peers/run.sh            N=10000 requests each, ROUNDS=5 rounds;
#   N=2000 ROUNDS=3 benches/peers/run.sh
# Two measures for every contender: transactions per second, and CPU time per transaction
# (user + system, µs). A client measures its own (getrusage RUSAGE_SELF around its N
# requests); a server's is read from /proc/PID/stat before and after the libmodbus client's
# N requests (clock ticks, 10 ms: at N = 10 000 that is ±1 µs a transaction).
# The machine is shared and its load moves within seconds, so every round runs each
# contender once, in turn, and the summary at the end gives each one's median over the rounds.
# Throughput swings with the load; CPU per transaction much less (issue 20).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-10000}
ROUNDS=${ROUNDS:-5}
results=$(mktemp)
export DEBIAN_FRONTEND=noninteractive
if ! pkg-config --exists libmodbus 2>/dev/null; then
  apt-get update -qq && apt-get install -y -qq libmodbus-dev pkg-config >/dev/null
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
  for _ in $(seq 100); do [ -s "$log" ] && break; sleep 0.05; done
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

# note LABEL CMD... : runs a client, echoes its line, keeps "LABEL tps cpu_us" for the summary.
note() {
  local label=$1; shift
  local out_line tps cpu
  out_line=$("$@" 2>/dev/null | grep tps= | tail -n 1)
  tps=$(echo "$out_line" | sed -n 's/.*tps=\([0-9.]*\).*/\1/p')
  cpu=$(echo "$out_line" | sed -n 's/.*cpu_us=\([0-9.]*\).*/\1/p')
  echo "  $label: $out_line"
  echo "$label ${tps:-nan} ${cpu:-nan}" >>"$results"
}

# note_server LABEL PID PORT : the libmodbus client reads the server at PORT; the server's
# CPU per transaction from its ticks before and after.
note_server() {
  local label=$1 server=$2 port=$3
  local before after out_line tps cpu
  before=$(ticks "$server")
  out_line=$("$out/libmodbus_client" tcp 127.0.0.1 "$port" "$N" 2>/dev/null | grep tps= | tail -n 1)
  after=$(ticks "$server")
  tps=$(echo "$out_line" | sed -n 's/.*tps=\([0-9.]*\).*/\1/p')
  cpu=$(python3 -c "print(f'{($after - $before) / $hz * 1e6 / $N:.2f}')")
  echo "  $label: tps=${tps:-nan} server cpu_us=$cpu (client: $out_line)"
  echo "$label ${tps:-nan} $cpu" >>"$results"
}

for round in $(seq "$ROUNDS"); do
  echo "== round $round of $ROUNDS (N=$N, load average $(cut -d' ' -f1-3 /proc/loadavg))"
  note "client tcp libmodbus" "$out/libmodbus_client" tcp 127.0.0.1 "${addr##*:}" "$N"
  note "client tcp pymodbus" python3 benches/peers/pymodbus_client.py tcp 127.0.0.1 "${addr##*:}" "$N"
  note "client tcp metrig" env METRIG_BENCH_TCP="$addr" METRIG_BENCH_N="$N" "$bench"
  note "client rtu libmodbus" "$out/libmodbus_client" rtu "$pty" 19200 N "$N"
  note "client rtu pymodbus" python3 benches/peers/pymodbus_client.py rtu "$pty" 19200 N "$N"
  # The first of metrig's two RTU lines: inter_frame_delay_ms = 0, as the others send.
  note "client rtu metrig" sh -c "METRIG_BENCH_RTU='$pty' METRIG_BENCH_N='$N' '$bench' 2>/dev/null | head -n 1"
  note_server "server tcp metrig" "$metrig_server" "${addr##*:}"
  note_server "server tcp libmodbus" "$libmodbus_server" "$port"
  note_server "server tcp pymodbus" "$pymodbus_server" "$port2"
done

echo "== medians over $ROUNDS rounds; metrig's ratio to each peer on both measures"
echo "   (tps: above 1 metrig is faster; CPU µs a transaction: below 1 metrig spends less)"
python3 - "$results" <<'PY'
import math, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    *label, tps, cpu = line.split()
    runs.setdefault(" ".join(label), []).append((float(tps), float(cpu)))
def median(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return statistics.median(xs) if xs else math.nan
med = {k: (median([t for t, _ in v]), median([c for _, c in v])) for k, v in runs.items()}
for k, v in runs.items():
    t, c = med[k]
    print(f"{k:22s} tps {t:8.0f}  cpu {c:6.2f} µs/tx  "
          f"(tps: {', '.join(f'{x:.0f}' for x, _ in v)}; µs/tx: {', '.join(f'{y:.2f}' for _, y in v)})")
for role, transport in [("client", "tcp"), ("client", "rtu"), ("server", "tcp")]:
    m = med.get(f"{role} {transport} metrig")
    for peer in ["libmodbus", "pymodbus"]:
        p = med.get(f"{role} {transport} {peer}")
        if m and p:
            print(f"{role} {transport}: metrig / {peer}: tps {m[0] / p[0]:.2f}x, "
                  f"cpu µs/tx {m[1] / p[1]:.2f}x")
PY
