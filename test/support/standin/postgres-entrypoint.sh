#!/bin/sh
# Entry point of the PostgreSQL stand-in image (Debian's own postgresql
# package in a busybox root fs). Behaves like the official image's for the
# parts Pilot uses: POSTGRES_USER (default postgres), POSTGRES_PASSWORD
# (required), POSTGRES_DB (default = user), data in $PGDATA
# (/var/lib/postgresql/data), listening on 5432 on all addresses, password
# (scram-sha-256) authentication over TCP.
set -eu
PGBIN=/usr/lib/postgresql/15/bin
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
export PGBIN PGDATA POSTGRES_USER POSTGRES_DB TZ=UTC

# Runs a constant command line as the postgres user. busybox su, run by root,
# asks no password; -m keeps the environment, so values reach the command as
# variables and are never re-parsed by a shell.
as_pg() { su -m -s /bin/sh -c "$1" postgres; }

if [ -z "${POSTGRES_PASSWORD:-}" ]; then
  echo "error: POSTGRES_PASSWORD is not set" >&2
  exit 1
fi
mkdir -p "$PGDATA" /var/run/postgresql
chown postgres:postgres "$PGDATA" /var/run/postgresql
chmod 700 "$PGDATA"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  PWFILE=$(mktemp)
  export PWFILE
  printf '%s\n' "$POSTGRES_PASSWORD" > "$PWFILE"
  chown postgres "$PWFILE"
  as_pg '"$PGBIN/initdb" -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$PWFILE" --auth-local=trust --auth-host=scram-sha-256 --locale=C --encoding=UTF8 >/dev/null'
  rm -f "$PWFILE"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
  if [ "$POSTGRES_DB" != "postgres" ]; then
    # Single-user mode creates the database without a client binary; the
    # identifier is quoted (any '"' doubled).
    db=$(printf '%s' "$POSTGRES_DB" | sed 's/"/""/g')
    printf 'CREATE DATABASE "%s";\n' "$db" | as_pg '"$PGBIN/postgres" --single -D "$PGDATA" -j postgres >/dev/null'
  fi
  echo "PostgreSQL init process complete; ready for start up."
fi
exec su -m -s /bin/sh -c 'exec "$PGBIN/postgres" -D "$PGDATA"' postgres
