#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the store tests and prints the
# environment that points them at it, so that CI can run
#
#   eval "$(bash .ci/postgres.sh)"
#   go test -race ./internal/store/...
#
# It installs Debian's postgresql package only when no PostgreSQL server
# binary is found, then runs initdb and the server as the postgres user
# (creating that user if needed) in a new temporary directory, listening on
# 127.0.0.1 only, on the first free port from 55432, with trust
# authentication and fsync off: the data is thrown away. Run again while
# SMARTLAUNCH_TEST_POSTGRES names a running server, it reuses that one.
# Progress goes to stderr; stdout carries only shell commands.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }

# bindir prints the directory holding initdb, pg_ctl and pg_isready:
# Debian's /usr/lib/postgresql/<version>/bin (the newest version), else
# wherever initdb is on the PATH.
bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
      echo "$d"
      return 0
    fi
  done
  if command -v initdb >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return 0
  fi
  return 1
}

if ! bin=$(bindir); then
  log "no PostgreSQL server found; installing Debian's postgresql package"
  if [ "$(id -u)" -ne 0 ]; then
    log "installing needs root: run as root or install postgresql first"
    exit 1
  fi
  # The package's own cluster is not used; its output must not reach
  # stdout, which the caller evaluates.
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; } >&2
  bin=$(bindir) || { log "postgresql installed, but no initdb found"; exit 1; }
fi
log "using $bin"

# Idempotent within a shell: the server SMARTLAUNCH_TEST_POSTGRES names,
# if it still runs, is reused.
if [ -n "${SMARTLAUNCH_TEST_POSTGRES:-}" ] && "$bin/pg_isready" -q -d "$SMARTLAUNCH_TEST_POSTGRES"; then
  log "reusing the server SMARTLAUNCH_TEST_POSTGRES names"
  printf "export SMARTLAUNCH_TEST_POSTGRES='%s'\n" "$SMARTLAUNCH_TEST_POSTGRES"
  exit 0
fi

# as_owner runs a command as the user who owns the server: postgres when
# running as root (PostgreSQL refuses to run as root), else the caller.
if [ "$(id -u)" -eq 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    log "creating the postgres user"
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /bin/sh postgres
  fi
  as_owner() { su -s /bin/sh postgres -c "$*"; }
  owner=postgres
else
  as_owner() { sh -c "$*"; }
  owner=$(id -un)
fi

# Under /tmp, not $TMPDIR, which may be private to the caller: the
# postgres user must reach the directory.
dir=$(mktemp -d /tmp/smartlaunch-pg.XXXXXX)
mkdir "$dir/data" "$dir/socket"
chown -R "$owner" "$dir"
chmod 0755 "$dir"

as_owner "'$bin/initdb' -D '$dir/data' -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null" >&2 ||
  as_owner "'$bin/initdb' -D '$dir/data' -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null" >&2

# port_free reports whether nothing listens on 127.0.0.1:$1.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

started=
failures=0
for port in $(seq 55432 55531); do
  port_free "$port" || continue
  opts="-c listen_addresses=127.0.0.1 -p $port -k $dir/socket -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=300"
  if as_owner "'$bin/pg_ctl' -D '$dir/data' -o '$opts' -l '$dir/log' -w -t 60 start >/dev/null" >&2; then
    started=1
    break
  fi
  # Another process may have taken the port meanwhile: try the next one,
  # a few times.
  failures=$((failures + 1))
  if [ "$failures" -ge 3 ]; then break; fi
done
if [ -z "$started" ]; then
  log "could not start the server; log:"
  cat "$dir/log" >&2 || true
  exit 1
fi

# Wait, bounded, until the server accepts connections over TCP.
ready=
for _ in $(seq 1 120); do
  if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; then
    ready=1
    break
  fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  log "server on port $port not ready after 60 s; log:"
  cat "$dir/log" >&2
  exit 1
fi

log "PostgreSQL ready on 127.0.0.1:$port (data in $dir)"
echo "export SMARTLAUNCH_TEST_POSTGRES='postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable'"
stop="'$bin/pg_ctl' -D '$dir/data' stop"
if [ "$(id -u)" -eq 0 ]; then stop="su -s /bin/sh postgres -c \"$stop\""; fi
echo "# stop it with: $stop"
