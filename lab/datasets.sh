#!/bin/bash
# Data sets for backup and restore verification: /srv/appdata on every db host of the lab
# (a SQLite database with orders and customers, uploaded files, a JSON config).
#
# Usage: lab/datasets.sh        (root; up.sh runs it; idempotent: a host keeps its data set)
#        lab/datasets.sh --reset HOST...   (rewrite those hosts' data sets from scratch)
#
# Written through each host's overlay root from this machine, like host-boot's files, so no
# package is needed inside the hosts (they have no sqlite3 CLI; probes use python3's sqlite3).
# The content is derived from the host name only: a host gets the same bytes every time.
# group_vars/db.yml declares the data set (data-backup archives it), the restore_verify group
# restores it (restore-verify); see docs/backups.md.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lab/lab-lib.sh
. "$HERE/lab-lib.sh"
require_root "$@"

reset=()
if [ "${1:-}" = --reset ]; then
    shift
    reset=("$@")
fi

make_dataset() { # ROOT NAME
    python3 - "$1/srv/appdata" "$2" <<'EOF'
import json, random, sqlite3, sys
from pathlib import Path

root, host = Path(sys.argv[1]), sys.argv[2]
rng = random.Random(host)
(root / "uploads").mkdir(parents=True, exist_ok=True)
db = sqlite3.connect(root / "app.db")
db.executescript(
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER REFERENCES customers(id),"
    " amount REAL NOT NULL, created TEXT NOT NULL);"
)
db.executemany("INSERT INTO customers VALUES (?, ?)", [(i, f"customer-{i:03d}") for i in range(1, 21)])
db.executemany(
    "INSERT INTO orders VALUES (?, ?, ?, ?)",
    [(i, rng.randint(1, 20), round(rng.uniform(5, 500), 2), f"2026-11-{1 + i % 28:02d}")
     for i in range(1, 201 + rng.randint(0, 50))],
)
db.commit()
db.close()
for i in range(1, 13):
    (root / "uploads" / f"invoice-{i:04d}.txt").write_text(
        f"invoice {i} for {host}\n" + "".join(f"line {n}: {rng.random():.6f}\n" for n in range(40))
    )
(root / "config.json").write_text(json.dumps({"host": host, "currency": "CNY", "retention_days": 30}, indent=2) + "\n")
EOF
    chmod -R go-w "$1/srv/appdata"
}

made=0
for d in "$LAB_DIR"/hosts/h*; do
    [ -d "$d/root/etc" ] || continue # unreachable hosts have no root
    h=${d##*/}
    role=$(cat "$d/root/etc/lab-role" 2>/dev/null || true)
    [ "$role" = db ] || continue
    for r in "${reset[@]}"; do
        [ "$r" = "$h" ] && rm -rf --one-file-system "$d/root/srv/appdata"
    done
    [ -e "$d/root/srv/appdata/app.db" ] && continue
    rm -rf --one-file-system "$d/root/srv/appdata"
    make_dataset "$d/root" "$h"
    made=$((made + 1))
done
[ "$made" = 0 ] || log "data sets: /srv/appdata written on $made db host(s)"
