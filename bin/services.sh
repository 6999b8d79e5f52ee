#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1: start them when installed but stopped,
# install them with apt-get when missing, then create the project's database. nginx is only
# installed: the tests start it themselves.
# Usage: bin/services.sh DATABASE_NAME
#        bin/services.sh --browser    (only Debian's chromium, for the browser tests)
set -euo pipefail

db_name="${1:-gmbot}"
pg_host=127.0.0.1
pg_port="${PGPORT:-5432}"
redis_port="${REDIS_PORT:-6379}"

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

apt_install() {
  echo "services: installing $*" >&2
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive ${RUNLEVEL:+RUNLEVEL=$RUNLEVEL} \
    apt-get install -y -qq "$@" >/dev/null
}

wait_for() { # wait_for DESCRIPTION COMMAND...
  local what="$1"; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "services: $what does not answer" >&2
  return 1
}

# The browser tests drive Debian's chromium (playwright never downloads one of its own).
if [ "$db_name" = "--browser" ]; then
  if ! [ -x /usr/bin/chromium ]; then
    apt_install chromium
  fi
  exit 0
fi

pg_up() { pg_isready -q -h "$pg_host" -p "$pg_port"; }
redis_up() { redis-cli -h 127.0.0.1 -p "$redis_port" ping | grep -q PONG; }

if ! command -v pg_isready >/dev/null || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  apt_install postgresql postgresql-client
fi
if ! pg_up; then
  echo "services: starting PostgreSQL" >&2
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  sudo_if_needed pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for PostgreSQL pg_up
fi
# Trust auth for the local superuser is how this machine is set up; a fresh install uses peer
# auth over the socket, so make the loopback login work for the tests.
if ! psql -h "$pg_host" -p "$pg_port" -U postgres -Atqc "select 1" >/dev/null 2>&1; then
  hba="$(as_postgres psql -Atqc 'show hba_file')"
  # pg_hba.conf is read top-down and the first match wins, so the rule goes first.
  sudo_if_needed sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
  as_postgres psql -qc "select pg_reload_conf()" >/dev/null
fi

if ! command -v redis-server >/dev/null; then
  apt_install redis-server
fi
# The proxy the docs put in front of the web process; the tests run it on ports of their own.
# RUNLEVEL=1 keeps the package from starting a server of its own on port 80.
if ! command -v nginx >/dev/null; then
  RUNLEVEL=1 apt_install nginx
fi
if ! redis_up; then
  echo "services: starting Redis" >&2
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$redis_port" --save "" \
    --appendonly no --dir /tmp --logfile /tmp/gmbot-redis.log
  wait_for Redis redis_up
fi

exists="$(psql -h "$pg_host" -p "$pg_port" -U postgres -Atqc \
  "select 1 from pg_database where datname = '$db_name'")"
if [ "$exists" != "1" ]; then
  psql -h "$pg_host" -p "$pg_port" -U postgres -qc "create database \"$db_name\"" >/dev/null
  echo "services: created database $db_name" >&2
fi
