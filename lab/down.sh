#!/bin/bash
# Stop the lab: every host process, namespace, veth, mount, the bridge and fakenos.
# Keeps the cached rootfs, the client key and the host keys (so known_hosts stays valid).
# Each host's writable layer (its state: installed packages, edits) and the lab apt repo are
# removed too, so the next up.sh starts from a known lab; KEEP_FS=1 keeps them.
#
# Usage: lab/down.sh      (root; safe to run when nothing is up)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lab/lab-lib.sh
. "$HERE/lab-lib.sh"
require_root "$@"
started=$(date +%s%N)

# Tests must stop trusting the lab first.
rm -f "$LAB_DIR/lab.json"

stop_pid "$(cat "$LAB_DIR/devices.pid" 2>/dev/null || true)" "$DEVICES_WORD"
rm -f "$LAB_DIR/devices.pid" "$LAB_DIR/devices.json"

# Every host we know of, plus namespaces left by a crashed run that we no longer track.
hosts=()
for d in "$LAB_DIR"/hosts/h*; do [ -d "$d" ] && hosts+=("${d##*/}"); done
stopped=${#hosts[@]}
for ns in $(ip netns list | awk -v p="^$NS_PREFIX" '$1 ~ p {print $1}'); do
    [ -d "$LAB_DIR/hosts/${ns#"$NS_PREFIX"}" ] || hosts+=("${ns#"$NS_PREFIX"}")
done
hosts_stop "${hosts[@]}"
umount_matching "^$LAB_DIR/"
if [ -n "${KEEP_FS:-}" ]; then
    rm -f "$LAB_DIR"/hosts/h*/pid "$LAB_DIR"/hosts/h*/state
else
    rm -rf --one-file-system "$LAB_DIR/hosts"
fi
ip link del "$BRIDGE" 2>/dev/null || true
# Packages published during tests (repo-add.sh) go too; up.sh seeds labapp 1.0 again.
[ -n "${KEEP_FS:-}" ] || rm -rf "$LAB_DIR/repo"

secs=$(( ($(date +%s%N) - started) / 1000000 ))
printf 'lab down: %d hosts stopped in %d.%03d s (kept %s/rootfs and keys)\n' \
    "$stopped" $((secs / 1000)) $((secs % 1000)) "$LAB_DIR"
