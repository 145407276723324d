#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster.
#
#   scripts/pg-test.sh COMMAND [ARG…]        e.g. scripts/pg-test.sh cargo test
#
# Installs PostgreSQL from Debian's packages if `initdb` is not found (needs root and apt-get),
# makes a cluster in a new temporary folder owned by an unprivileged user (PostgreSQL refuses to
# run as root: as root the `postgres` user, else the caller), starts it listening on a Unix
# socket only (no TCP port), with a `C` collation and UTF-8, and runs COMMAND with
# ASSAY_TEST_PG set to a connection URI for a superuser of that cluster (and PGHOST, PGPORT,
# PGUSER set for psql, and ASSAY_TEST_PG_CTL to a script that stops and starts the cluster). The cluster is stopped and its folder removed however COMMAND ends; the
# script exits with COMMAND's status.
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: $0 COMMAND [ARG…]" >&2
    exit 2
fi

find_bin() {
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return; }
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

BIN=$(find_bin || true)
if [ -z "$BIN" ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "$0: PostgreSQL is not installed, and installing it needs root and apt-get" >&2
        exit 1
    fi
    echo "$0: installing PostgreSQL from Debian's packages…" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    BIN=$(find_bin)
fi

if [ "$(id -u)" -eq 0 ]; then
    OWNER=postgres
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    as_owner() { runuser -u "$OWNER" -- "$@"; }
else
    OWNER=$(id -un)
    as_owner() { "$@"; }
fi

DIR=$(mktemp -d /tmp/assay-pg.XXXXXX)
# (the owner must reach its data folder and socket; a mktemp folder is 0700)
chmod 0755 "$DIR"
mkdir "$DIR/data" "$DIR/run"
chown "$OWNER" "$DIR/data" "$DIR/run"
PORT=5432

cleanup() {
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

as_owner "$BIN/initdb" -D "$DIR/data" -U "$OWNER" --auth=trust --encoding=UTF8 --locale=C >/dev/null
as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/run/log" -w \
    -o "-c listen_addresses='' -k $DIR/run -p $PORT -c fsync=on" start >/dev/null

# For the tests of a server going away and coming back: `$DIR/ctl stop` stops the cluster (fast
# shutdown: connections are cut), `$DIR/ctl start` starts it again as it was.
RUNAS=""
[ "$(id -u)" -eq 0 ] && RUNAS="runuser -u $OWNER --"
cat >"$DIR/ctl" <<CTL
#!/bin/sh
case "\$1" in
  stop) exec $RUNAS "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null ;;
  start) exec $RUNAS "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/run/log" -w \
      -o "-c listen_addresses='' -k $DIR/run -p $PORT -c fsync=on" start >/dev/null ;;
  *) echo "usage: \$0 stop|start" >&2; exit 2 ;;
esac
CTL
chmod 0755 "$DIR/ctl"
export ASSAY_TEST_PG_CTL="$DIR/ctl"

export PGHOST="$DIR/run" PGPORT="$PORT" PGUSER="$OWNER" PGDATABASE=postgres
export ASSAY_TEST_PG="postgresql://$OWNER@/postgres?host=$DIR/run&port=$PORT"
echo "$0: PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') at $DIR/run (ASSAY_TEST_PG=$ASSAY_TEST_PG)" >&2
set +e
"$@"
STATUS=$?
set -e
exit "$STATUS"
