#!/usr/bin/env bash
# Start Debian's PostgreSQL cluster on this machine and create the test role and database.
# Prints the DATABASE_URL to use. Needs root (CI and the dev machines run as root).
#   scripts/pg-test-server.sh            -> postgresql://jiaoguan:jiaoguan@127.0.0.1:5432/jiaoguan_test
set -euo pipefail
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends postgresql >&2
fi
read -r version cluster port status _ < <(pg_lsclusters --no-header | head -n 1)
if [ "$status" != "online" ]; then
  pg_ctlcluster "$version" "$cluster" start >&2
fi
as_pg() { runuser -u postgres -- "$@"; }
as_pg psql -q -p "$port" -tc "SELECT 1 FROM pg_roles WHERE rolname = 'jiaoguan'" | grep -q 1 \
  || as_pg psql -q -p "$port" -c "CREATE ROLE jiaoguan LOGIN PASSWORD 'jiaoguan' CREATEDB" >&2
as_pg psql -q -p "$port" -tc "SELECT 1 FROM pg_database WHERE datname = 'jiaoguan_test'" | grep -q 1 \
  || as_pg createdb -p "$port" -O jiaoguan jiaoguan_test >&2
echo "postgresql://jiaoguan:jiaoguan@127.0.0.1:${port}/jiaoguan_test"
