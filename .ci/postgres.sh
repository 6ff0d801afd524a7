# Sourced by .ci/run: a throwaway PostgreSQL cluster in a temporary folder for
# the store's tests (issue 17), torn down when the script exits. Exports
# METRIG_TEST_PG_URL. CI runs as root and initdb refuses root, so the cluster
# belongs to the `postgres` user (created by the Debian package).

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

if ! PG_BIN=$(pg_bin); then
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  PG_BIN=$(pg_bin)
fi

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

PG_DIR=$(mktemp -d /tmp/metrig-pg.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres: "$PG_DIR"
PG_PORT=${METRIG_TEST_PG_PORT:-55432}
pg_teardown() {
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap pg_teardown EXIT

as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U metrig --auth=trust -E UTF8 >"$PG_DIR/initdb.log" 2>&1 \
  || { cat "$PG_DIR/initdb.log"; exit 1; }
# Sockets in the cluster's folder; TCP on loopback for the tests. Room for
# 8 writers per test and tests running side by side.
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
  -o "-k $PG_DIR -p $PG_PORT -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null \
  || { cat "$PG_DIR/server.log"; exit 1; }
export METRIG_TEST_PG_URL="postgres://metrig@127.0.0.1:$PG_PORT/postgres"
echo "PostgreSQL for the store tests at $METRIG_TEST_PG_URL"
