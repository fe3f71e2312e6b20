#!/usr/bin/env bash
# A Postgres server for the bridge's Postgres backend tests: installs Debian's postgresql if missing,
# starts its cluster, makes sure a test role exists, and prints the URL tests connect to (they create
# and drop a database of their own each). Safe to run again. Needs root or sudo.
set -euo pipefail

ROLE=coexist_test
URL="postgres://$ROLE:$ROLE@127.0.0.1:5432/postgres"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "test-postgres: run as root or install sudo (Postgres is installed and started as root)" >&2; exit 1; }
  SUDO="sudo"
fi
as_postgres() { if [ -z "$SUDO" ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }

if ! dpkg-query -W -f='${Status}' postgresql 2>/dev/null | grep -q "install ok installed"; then
  echo "test-postgres: installing Debian's postgresql" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql >&2
fi

# The package creates a cluster but, without systemd (containers, CI), does not start it.
read -r version cluster < <(pg_lsclusters -h | awk '{print $1, $2; exit}')
if [ -z "${version:-}" ]; then
  version=$(ls /usr/lib/postgresql | sort -n | tail -1)
  cluster=main
  $SUDO pg_createcluster "$version" "$cluster" >&2
fi
if ! pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c {print $4}' | grep -q online; then
  $SUDO pg_ctlcluster "$version" "$cluster" start >&2
fi
for _ in $(seq 1 30); do
  as_postgres psql -qtAc "SELECT 1" >/dev/null 2>&1 && break
  sleep 0.5
done
if ! as_postgres psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'" | grep -q 1; then
  as_postgres psql -qc "CREATE ROLE $ROLE LOGIN SUPERUSER PASSWORD '$ROLE'" >&2
fi
echo "$URL"
