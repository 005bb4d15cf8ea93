#!/bin/bash
# Make sure a PostgreSQL answers on 127.0.0.1:5432 for the integration suite.
# Uses ORCH_TEST_PG_URL if set; otherwise starts the local cluster, installing it if needed.
# --url prints the SQLAlchemy URL to use and nothing else.
set -euo pipefail
URL=${ORCH_TEST_PG_URL:-postgresql+psycopg2://postgres@127.0.0.1:5432/postgres}
if [ "${1:-}" = --url ]; then echo "$URL"; exit 0; fi
[ -n "${ORCH_TEST_PG_URL:-}" ] && { echo "postgres: using ORCH_TEST_PG_URL"; exit 0; }

ready() { command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; }
ready && { echo "postgres: up on 127.0.0.1:5432"; exit 0; }
if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  echo "postgres: installing the Debian package"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
ver=$(ls /etc/postgresql | sort -V | tail -1)
# trust on loopback for the test user, as on the CI machines
hba=/etc/postgresql/$ver/main/pg_hba.conf
grep -q '^host all all 127.0.0.1/32 trust' "$hba" || sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
for _ in $(seq 30); do ready && break; sleep 0.5; done
ready || { echo "postgres: could not start a server on 127.0.0.1:5432" >&2; exit 1; }
echo "postgres: started $ver on 127.0.0.1:5432"
