#!/bin/bash
# Show what of the lab is up and whether every host and device is in its designed state.
# Exit 0 if the lab is up and healthy (as designed: h3 full, h4 without cron, hN refusing
# connections, all others answering with sshd and cron), 1 otherwise.
#
# Usage: lab/status.sh [-q]      (root; -q prints only problems and the summary)
# Looks at processes, namespaces and ports from outside, so it stays fast for 200 hosts.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lab/lab-lib.sh
. "$HERE/lab-lib.sh"
require_root "$@"
QUIET=${1:-}

if [ ! -f "$LAB_DIR/lab.json" ]; then
    echo "lab: down ($LAB_DIR/lab.json missing; start it with lab/up.sh)"
    exit 1
fi
PY=$(venv_python)
[ -x "$PY" ] || PY=python3

problems=0
problem() {
    echo "  PROBLEM $*"
    problems=$((problems + 1))
}
answers() { timeout 2 bash -c "exec 3<> /dev/tcp/$1/$2" 2>/dev/null; }

ip link show "$BRIDGE" >/dev/null 2>&1 || problem "bridge $BRIDGE missing"

# Processes named $2 in namespace $1 (global pids; the host's PID 1 is sshd).
ns_has() {
    local p
    for p in $(ip netns pids "$1" 2>/dev/null); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && return 0
    done
    return 1
}

echo "hosts:"
nhosts=0
while read -r name addr state; do
    nhosts=$((nhosts + 1))
    ns=$NS_PREFIX$name
    seen=""
    if [ ! -e "/run/netns/$ns" ]; then
        problem "$name: namespace $ns missing"
        continue
    fi
    if [ "$state" = unreachable ]; then
        answers "$addr" 22 && problem "$name ($addr) answers on 22 but should be unreachable"
        seen="refuses ssh"
    else
        answers "$addr" 22 || problem "$name ($addr) does not answer on port 22"
        seen="ssh"
        if ns_has "$ns" cron; then
            seen+=", cron"
            [ "$state" = service_stopped ] && problem "$name: cron runs but should be stopped"
        else
            [ "$state" = service_stopped ] || problem "$name: cron is not running"
        fi
        if [ "$state" = full_disk ]; then
            read -r blocks free < <(stat -f -c '%b %f' "$LAB_DIR/hosts/$name/root/")
            used=$(( (blocks - free) * 100 / blocks ))
            seen+=", / ${used}% used"
            [ "$used" -ge 90 ] || problem "$name: / only ${used}% used, should be nearly full"
        fi
    fi
    [ -n "$QUIET" ] || printf '  %-6s %-12s %-16s %s\n' "$name" "$addr" "$state" "$seen"
done < <("$PY" -c 'import json, sys
for h in json.load(open(sys.argv[1]))["hosts"]:
    print(h["name"], h["address"], h["state"])' "$LAB_DIR/lab.json")

echo "devices:"
pid=$(cat "$LAB_DIR/devices.pid" 2>/dev/null || true)
if [ -n "$LAB_DEVICES" ]; then # a lab started with LAB_DEVICES="" has none
    pid_is "$pid" "$DEVICES_WORD" || problem "fakenos (devices.py) is not running"
fi
ndev=0
while read -r name platform addr port; do
    ndev=$((ndev + 1))
    if answers "$addr" "$port"; then seen=answers; else seen="no answer"; fi
    [ "$seen" = answers ] || problem "$name ($addr:$port) does not answer"
    [ -n "$QUIET" ] || printf '  %-6s %-12s %s:%-6s %s\n' "$name" "$platform" "$addr" "$port" "$seen"
done < <("$PY" -c 'import json, sys
for d in json.load(open(sys.argv[1]))["devices"]:
    print(d["name"], d["platform"], d["address"], d["port"])' "$LAB_DIR/lab.json")

if [ "$problems" = 0 ]; then
    echo "lab: up and healthy: $nhosts hosts, $ndev devices ($LAB_DIR)"
    exit 0
fi
echo "lab: $problems problem(s) with $nhosts hosts, $ndev devices ($LAB_DIR)"
exit 1
