#!/usr/bin/env bash
# Installs PostgreSQL from Debian's packages when missing, starts a cluster, and makes sure the
# role `qinghe` (password qinghe, CREATEDB) and the databases `qinghe` and `qinghe_bench` exist.
# Used by .ci/run and by `make bench`. Prints nothing on success.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
fi
PGVER=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters 2>/dev/null | grep -q "^$PGVER *main"; then
  $SUDO pg_createcluster "$PGVER" main >/dev/null
fi
$SUDO pg_ctlcluster "$PGVER" main start 2>/dev/null || true
for _ in $(seq 1 30); do
  if pg_isready -q -h 127.0.0.1 -p 5432; then break; fi
  sleep 1
done
$SUDO runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'qinghe') THEN
    CREATE ROLE qinghe LOGIN PASSWORD 'qinghe' CREATEDB;
  END IF;
END $$;
SELECT 'CREATE DATABASE qinghe OWNER qinghe' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'qinghe')\gexec
SELECT 'CREATE DATABASE qinghe_bench OWNER qinghe' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'qinghe_bench')\gexec
SQL
