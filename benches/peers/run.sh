#!/usr/bin/env bash
# Side-by-side Modbus benchmarks (BENCHMARKS.md, items 2 and 3): metrig's client against
# libmodbus's and pymodbus's, reading the same `metrig sim serve` over TCP and over RTU on
# a pty; and metrig's simulated meter as a server against a libmodbus and a pymodbus server,
# all read by the same libmodbus client. Installs what it needs (libmodbus-dev, pymodbus).
#   benches/peers/run.sh            N=10000 requests each, ROUNDS=5 rounds;
#   N=2000 ROUNDS=3 benches/peers/run.sh
# The machine is shared and its load moves within seconds, so every round runs each
# contender once, in turn, and the summary at the end gives each one's median over the rounds.
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
cargo build --release -q
cargo bench --no-run -q --bench modbus_client 2>/dev/null
metrig=target/release/metrig
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# serve CMD... : starts a server in the background, waits for its first line (in $line).
serve() {
  local log; log=$(mktemp)
  "$@" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$log" ] && break; sleep 0.05; done
  line=$(head -n 1 "$log")
}

serve "$metrig" sim serve --meter fixtures/meters/legrand-412083.toml --tcp 127.0.0.1:0
addr=$(echo "$line" | awk '{print $3}')
serve "$metrig" sim serve --meter fixtures/meters/legrand-412083.toml --rtu
pty=$(echo "$line" | awk '{print $3}')
port=$((20000 + RANDOM % 20000))
serve "$out/libmodbus_server" "$port"
port2=$((port + 1))
serve python3 benches/peers/pymodbus_server.py "$port2"
sleep 1

# note LABEL CMD... : runs a contender, echoes its line, keeps "LABEL tps" for the summary.
note() {
  local label=$1; shift
  local out_line
  out_line=$("$@" 2>/dev/null | grep tps= | tail -n 1)
  echo "  $label: $out_line"
  echo "$label ${out_line##*tps=}" >>"$results"
}

for round in $(seq "$ROUNDS"); do
  echo "== round $round of $ROUNDS (N=$N)"
  note "client tcp libmodbus" "$out/libmodbus_client" tcp 127.0.0.1 "${addr##*:}" "$N"
  note "client tcp pymodbus" python3 benches/peers/pymodbus_client.py tcp 127.0.0.1 "${addr##*:}" "$N"
  note "client tcp metrig" env METRIG_BENCH_TCP="$addr" cargo bench -q --bench modbus_client
  note "client rtu libmodbus" "$out/libmodbus_client" rtu "$pty" 19200 N "$N"
  note "client rtu pymodbus" python3 benches/peers/pymodbus_client.py rtu "$pty" 19200 N "$N"
  # The first of metrig's two RTU lines: inter_frame_delay_ms = 0, as the others send.
  note "client rtu metrig" sh -c "METRIG_BENCH_RTU='$pty' cargo bench -q --bench modbus_client 2>/dev/null | head -n 1"
  note "server tcp metrig" "$out/libmodbus_client" tcp 127.0.0.1 "${addr##*:}" "$N"
  note "server tcp libmodbus" "$out/libmodbus_client" tcp 127.0.0.1 "$port" "$N"
  note "server tcp pymodbus" "$out/libmodbus_client" tcp 127.0.0.1 "$port2" "$N"
done

echo "== medians over $ROUNDS rounds (tps), and metrig's ratio to each peer"
python3 - "$results" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    *label, tps = line.split()
    runs.setdefault(" ".join(label), []).append(float(tps))
med = {k: statistics.median(v) for k, v in runs.items()}
for k, v in runs.items():
    print(f"{k:24s} median {med[k]:8.0f}  (runs: {', '.join(f'{x:.0f}' for x in v)})")
for role, transport in [("client", "tcp"), ("client", "rtu"), ("server", "tcp")]:
    m = med.get(f"{role} {transport} metrig")
    for peer in ["libmodbus", "pymodbus"]:
        p = med.get(f"{role} {transport} {peer}")
        if m and p:
            print(f"{role} {transport}: metrig / {peer} = {m / p:.2f}x")
PY
