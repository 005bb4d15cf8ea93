#!/bin/bash
# `make demo`: the daily inspection over the lab on embedded defaults (SQLite under ./var),
# under a standard change template that a change-manager approved — every run needs one.
set -euo pipefail
cd "$(dirname "$0")/.."
LAB_DIR=${LAB_DIR:-/var/tmp/orchestrator-lab}
export ORCH_INVENTORY=$LAB_DIR/inventory/hosts.yml ORCH_KNOWN_HOSTS=$LAB_DIR/known_hosts
ORCH=.venv/bin/orchestrator
export COLUMNS=${COLUMNS:-120}  # tables stay readable when make pipes the output

# Who may do what: you request and run, "lead" approves (requester ≠ approver).
ME=$(id -un)
export ORCH_CONFIG=var/orchestrator.toml
mkdir -p var
if [ ! -f "$ORCH_CONFIG" ]; then
  cat >"$ORCH_CONFIG" <<TOML
# Written by make demo (see README, "Change records").
allow_user_override = true        # the demo plays two people with ORCH_USER
[roles]
$ME = ["operator"]                # requests changes and runs runbooks
lead = ["change-manager"]         # approves them
TOML
fi

echo "== inventory ($ORCH_INVENTORY)"
$ORCH inventory graph
echo "== change desk ($ORCH_CONFIG: $ME = operator, lead = change-manager)"
if $ORCH run daily-inspection --dry-run --json >/dev/null 2>&1; then
  echo "an approved standard template already covers daily-inspection:"
else
  created=$($ORCH change template create --title "日常巡检 daily inspection" \
    --runbook daily-inspection --targets all \
    --purpose "read-only daily inspection of critical hosts (seed rule: critical daily)" \
    --submit)
  echo "$created"
  id=$(grep -o 'CHG-[0-9]*-[0-9]*' <<<"$created" | head -1)
  ORCH_USER=lead $ORCH change approve "$id" -m "standard change: read-only, approved once"
fi
$ORCH change template list
echo "== plan"
$ORCH run daily-inspection --dry-run | tail -3
echo "== run"
set +e
$ORCH run daily-inspection
rc=$?
set -e
echo "== exit code $rc (0 ok, 1 some hosts failed — expected: the lab has an unreachable host)"
$ORCH runs list -n 3
echo "== audit log"
$ORCH audit list -n 6
$ORCH audit verify
cat <<MSG

What was created:
  $ORCH_CONFIG  roles for the demo ($ME = operator, lead = change-manager)
  var/orchestrator.db    SQLite: the approved standard change, the run, the audit log
  var/output/            full step output (checksummed)
Look closer with:
  export ORCH_CONFIG=$ORCH_CONFIG ORCH_INVENTORY=$ORCH_INVENTORY ORCH_KNOWN_HOSTS=$ORCH_KNOWN_HOSTS
  $ORCH runs show last [--host h3] [--json]
  $ORCH change template list; $ORCH change show CHG-…   (the plan lead approved)
  $ORCH audit verify
Stop the lab with: make lab-down
MSG
[ "$rc" -le 1 ]
