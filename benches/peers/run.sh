#!/usr/bin/env bash
# Side-by-side Modbus benchmarks (BENCHMARKS.md, items 2 and 3): metrig's client against
# libmodbus's and pymodbus's, reading the same `metrig sim serve` over TCP and over RTU on
# a pty; and metrig's simulated meter as a server against a libmodbus and a pymodbus server,
# all read by the same libmodbus client. Installs what it needs (libmodbus-dev, pymodbus).
#   benches/peers/run.sh            N=10000 requests each;  N=2000 benches/peers/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-10000}
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

echo "== clients, reading metrig sim serve over TCP (N=$N)"
serve "$metrig" sim serve --meter fixtures/meters/legrand-412083.toml --tcp 127.0.0.1:0
addr=$(echo "$line" | awk '{print $3}')
"$out/libmodbus_client" tcp 127.0.0.1 "${addr##*:}" "$N"
python3 benches/peers/pymodbus_client.py tcp 127.0.0.1 "${addr##*:}" "$N"
METRIG_BENCH_TCP="$addr" cargo bench -q --bench modbus_client 2>/dev/null

echo "== clients, reading metrig sim serve over RTU on a pty, 19200 8N1 (N=$N)"
serve "$metrig" sim serve --meter fixtures/meters/legrand-412083.toml --rtu
pty=$(echo "$line" | awk '{print $3}')
"$out/libmodbus_client" rtu "$pty" 19200 N "$N"
python3 benches/peers/pymodbus_client.py rtu "$pty" 19200 N "$N"
METRIG_BENCH_RTU="$pty" cargo bench -q --bench modbus_client 2>/dev/null

echo "== servers over TCP, each read by the libmodbus client (N=$N)"
echo -n "metrig sim serve: "
"$out/libmodbus_client" tcp 127.0.0.1 "${addr##*:}" "$N"
port=$((20000 + RANDOM % 20000))
serve "$out/libmodbus_server" "$port"
echo -n "libmodbus server: "
"$out/libmodbus_client" tcp 127.0.0.1 "$port" "$N"
port2=$((port + 1))
serve python3 benches/peers/pymodbus_server.py "$port2"
sleep 1
echo -n "pymodbus server: "
"$out/libmodbus_client" tcp 127.0.0.1 "$port2" "$N"
