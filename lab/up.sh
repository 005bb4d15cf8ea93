#!/bin/bash
# Start (or converge) the lab: N Linux hosts h1..hN plus the fake network devices.
#
# Usage: lab/up.sh [N]      (root; N defaults to 12)
#
# Idempotent: hosts already up in the wanted state are left alone, hosts beyond N are
# removed, so `up.sh N` always ends with exactly the lab described by lab-layout.py.
# Each host hI: namespace orch-hI, eth0 = host_addr I on bridge orchbr0 (10.98.0.1/16)
# (names and subnet of a second lab: LAB_NAME, LAB_NET in lab-lib.sh),
# own hostname/PID/mount namespaces, overlay root on the shared cached rootfs, real sshd
# (PID 1) and cron. States: h3 full_disk, h4 service_stopped, hN unreachable (N >= 5).
# Client files go to $LAB_DIR (see lab/README.md); lab.json is written last.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lab/lab-lib.sh
. "$HERE/lab-lib.sh"
require_root "$@"

N=${1:-12}
if ! [[ $N =~ ^[0-9]+$ ]] || [ "$N" -lt 1 ] || [ "$N" -gt 1000 ]; then
    die "usage: $0 [N], 1 <= N <= 1000"
fi
started=$(date +%s%N)
PY=$(venv_python)
[ -x "$PY" ] || die "no project venv python at $PY: run \`make setup\` (or set VENV)"
FULL_DISK_MB=48 # h3's writable layer: small, so `df /` inside it reports nearly full
REBOOT_DELAY=${LAB_REBOOT_DELAY:-3} # seconds a rebooting host stays down (host-power.sh)

# If anything below fails, tests must not trust a half-built lab.
on_exit() {
    local rc=$?
    if [ "$rc" != 0 ]; then
        rm -f "$LAB_DIR/lab.json"
        log "up failed (see messages above); lab/down.sh cleans up"
    fi
}
trap on_exit EXIT

bash "$HERE/rootfs.sh"
mkdir -p "$LAB_DIR/keys" "$LAB_DIR/hostkeys" "$LAB_DIR/hosts"
[ -f "$LAB_DIR/keys/id_ed25519" ] \
    || ssh-keygen -q -t ed25519 -N '' -C orchestrator-lab -f "$LAB_DIR/keys/id_ed25519"
# The repo keeps labapp 1.0 so rollbacks (downgrades to 1.0) can be installed.
[ -f "$LAB_DIR/repo/Packages" ] || REPO=$LAB_DIR/repo bash "$HERE/repo-add.sh" labapp 1.0 >/dev/null
# Patch rollouts: labapp 1.1-1.3 (plain, reboot-required, failing postinst) and python3-apt for
# ansible's apt module. Both idempotent; hosts see them after `apt-get update`.
REPO=$LAB_DIR/repo bash "$HERE/repo-patches.sh" >/dev/null
REPO=$LAB_DIR/repo bash "$HERE/repo-python-apt.sh" >/dev/null
if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != 0 ]; then
    log "WARNING: net.ipv4.ip_forward=1 on this machine: lab hosts could be routed off-box"
fi
if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$BRIDGE_ADDR/$PREFIX_LEN" dev "$BRIDGE"
    ip link set "$BRIDGE" up
fi

# --- network devices (fakenos): started first, they take ~0.4 s each to load -------------
devices_up() {
    local pid
    pid=$(cat "$LAB_DIR/devices.pid" 2>/dev/null || true)
    pid_is "$pid" "$DEVICES_WORD" && [ -f "$LAB_DIR/devices.json" ] \
        && grep -q "\"spec\": \"$LAB_DEVICES\"" "$LAB_DIR/devices.json"
}
if [ -z "$LAB_DEVICES" ]; then
    # A lab without devices (LAB_DEVICES=""): stop any left from an earlier up.sh.
    stop_pid "$(cat "$LAB_DIR/devices.pid" 2>/dev/null || true)" "$DEVICES_WORD"
    rm -f "$LAB_DIR/devices.pid" "$LAB_DIR/devices.json"
elif ! devices_up; then
    stop_pid "$(cat "$LAB_DIR/devices.pid" 2>/dev/null || true)" "$DEVICES_WORD"
    rm -f "$LAB_DIR/devices.json"
    # setsid + redirections: the devices must not hold the caller's terminal or pipes.
    # shellcheck disable=SC2086  # LAB_DEVICES is a list of specs
    setsid "$PY" "$HERE/devices.py" --lab-dir "$LAB_DIR" --base-port "$DEVICE_BASE_PORT" \
        --stateful $LAB_DEVICES > "$LAB_DIR/devices.log" 2>&1 < /dev/null &
    echo $! > "$LAB_DIR/devices.pid"
fi

# --- Linux hosts -------------------------------------------------------------------------
# Per-host work runs 200 times: it sticks to bash builtins where it can (no cat/install).
host_is_up() { # NAME STATE
    local d=$LAB_DIR/hosts/$1 state="" pid=""
    [ -e "/run/netns/$NS_PREFIX$1" ] || return 1
    read -r state 2>/dev/null < "$d/state" || true
    [ "$state" = "$2" ] || return 1
    [ "$2" = unreachable ] && return 0
    read -r pid 2>/dev/null < "$d/pid" || true
    pid_is "$pid" "$(host_boot_word "$1")"
}

read -r -d '' CLIENT_PUB < "$LAB_DIR/keys/id_ed25519.pub" || true
# Files a host needs at every boot, written through its overlay root.
host_files() { # ROOT NAME ADDRESS ROLE
    local r=$1 h=$2 key=$LAB_DIR/hostkeys/$2 priv pub
    read -r -d '' priv < "$key" || true
    read -r -d '' pub < "$key.pub" || true
    echo "$h" > "$r/etc/hostname"
    printf '127.0.0.1 localhost\n%s %s\n' "$3" "$h" > "$r/etc/hosts"
    echo "$4" > "$r/etc/lab-role"
    echo "$pub" > "$r/etc/ssh/ssh_host_ed25519_key.pub"
    umask 077
    echo "$priv" > "$r/etc/ssh/ssh_host_ed25519_key"
    echo "$CLIENT_PUB" > "$r/root/.ssh/authorized_keys"
    umask 022
}

# A little variety for realism, on h2's first boot only: users and application logs.
host_extras() { # ROOT
    local r=$1 u
    [ -e "$r/var/log/app/app.log" ] && return 0
    for u in alice bob deploy; do chroot "$r" useradd -m -s /bin/bash "$u"; done
    mkdir -p "$r/var/log/app"
    for n in 1 2 3; do
        printf '2026-11-0%s 02:00:0%s app[42]: INFO nightly batch %s done\n' "$n" "$n" "$n"
    done > "$r/var/log/app/app.log"
    printf 'WARN disk latency high on /dev/vdb\n' > "$r/var/log/app/app.log.1"
}

# Fill the filesystem under ROOT to 95 %: the junk is a real file, so df/du see it.
fill_disk() { # ROOT
    local blocks free bsize want
    read -r blocks free bsize < <(stat -f -c '%b %f %S' "$1/")
    want=$(( (blocks * 95 + 99) / 100 - (blocks - free) ))
    mkdir -p "$1/var/log/app"
    [ "$want" -gt 0 ] && fallocate -l $((want * bsize)) "$1/var/log/app/debug.log.1"
    return 0
}

host_start() { # NAME INDEX ADDRESS STATE ROLE
    local h=$1 addr=$3 state=$4 ns=$NS_PREFIX$1 d=$LAB_DIR/hosts/$1 layer=$LAB_DIR/hosts/$1 cron
    ip netns add "$ns"
    # A stable MAC per host: after a restart, neighbour caches on the bridge stay right
    # (a stale entry would blackhole the first connects for up to a minute).
    ip link add "v$ns" up master "$BRIDGE" type veth peer name eth0 netns "$ns" \
        address "$(printf '%s:%02x:%02x' "$MAC_PREFIX" $(($2 / 256)) $(($2 % 256)))"
    if [ "$state" = unreachable ]; then
        # Address but no sshd: connecting gets an immediate "Connection refused".
        mkdir -p "$d"
        ip -n "$ns" addr add "$addr/$PREFIX_LEN" dev eth0
        ip -n "$ns" link set eth0 up
        echo "$state" > "$d/state"
        return 0
    fi
    if [ "$state" = full_disk ]; then
        # overlayfs reports its upper filesystem in statfs: a small tmpfs upper = a full "/".
        mkdir -p "$d/fs"
        mount -t tmpfs -o "size=${FULL_DISK_MB}m,mode=755" tmpfs "$d/fs"
        layer=$d/fs
    fi
    mkdir -p "$layer/upper" "$layer/work" "$d/root"
    mount -t overlay overlay \
        -o "lowerdir=$LAB_DIR/rootfs,upperdir=$layer/upper,workdir=$layer/work" "$d/root"
    host_files "$d/root" "$h" "$addr" "$5"
    [ "$h" = h2 ] && host_extras "$d/root"
    [ "$state" = full_disk ] && fill_disk "$d/root"
    cron=yes
    [ "$state" = service_stopped ] && cron=no
    # host-power.sh boots the host again when its `reboot` ends it (patch rollouts).
    setsid bash "$HERE/host-power.sh" "$REBOOT_DELAY" ip netns exec "$ns" unshare --mount \
        --uts --pid --fork --kill-child --propagation private sh "$HERE/host-boot.sh" \
        "$d/root" "$h" "$addr/$PREFIX_LEN" "$LAB_DIR/repo" "$cron" "$state" \
        > "$d/sshd.log" 2>&1 < /dev/null &
    echo $! > "$d/pid"
    echo "$state" > "$d/state"
}

# Hosts beyond N (from an earlier, bigger lab) go away entirely.
extra=()
for d in "$LAB_DIR"/hosts/h*; do
    [ -d "$d" ] && [ "${d##*/h}" -gt "$N" ] && extra+=("${d##*/}")
done
if [ ${#extra[@]} -gt 0 ]; then
    hosts_stop "${extra[@]}"
    for h in "${extra[@]}"; do rm -rf --one-file-system "${LAB_DIR:?}/hosts/$h"; done
fi

plan=$("$PY" "$HERE/lab-layout.py" plan "$N")
started_hosts=0
while read -r h i addr state role _; do
    # Stable per-host keys outlive down.sh, so known_hosts stays valid. The unreachable host
    # has one too: known_hosts lists it like any host that merely is down right now.
    key=$LAB_DIR/hostkeys/$h
    [ -f "$key" ] || ssh-keygen -q -t ed25519 -N '' -C "root@$h" -f "$key"
    host_is_up "$h" "$state" && continue
    # Leftovers of this host (other state, crashed, or killed by hand) go first.
    if [ -e "$LAB_DIR/hosts/$h/state" ] || [ -e "/run/netns/$NS_PREFIX$h" ]; then
        host_stop "$h"
    fi
    host_start "$h" "$i" "$addr" "$state" "$role"
    started_hosts=$((started_hosts + 1))
done <<< "$plan"

# --- wait until everything that should answer does ---------------------------------------
"$PY" "$HERE/lab-layout.py" wait "$N" || die "hosts above do not answer; see $LAB_DIR/hosts/*/sshd.log"
for _ in $(seq 300); do
    [ -z "$LAB_DEVICES" ] || [ -f "$LAB_DIR/devices.json" ] && break
    pid_is "$(cat "$LAB_DIR/devices.pid")" "$DEVICES_WORD" || die "fakenos died: see $LAB_DIR/devices.log"
    sleep 0.1
done
[ -z "$LAB_DEVICES" ] || [ -f "$LAB_DIR/devices.json" ] \
    || die "fakenos did not start in 30 s: see $LAB_DIR/devices.log"
ndev=0
[ -z "$LAB_DEVICES" ] || ndev=$(grep -c '"name"' "$LAB_DIR/devices.json")

bash "$HERE/datasets.sh" # /srv/appdata on the db hosts (backup and restore verification)
"$PY" "$HERE/lab-layout.py" write "$N"
secs=$(( ($(date +%s%N) - started) / 1000000 ))
printf 'lab up: %d hosts (%d started now; %s), %d devices on 127.0.0.1:%d+, in %d.%03d s; see %s/lab.json\n' \
    "$N" "$started_hosts" \
    "$(awk '{n[$4]++} END {for (s in n) {printf "%s%d %s", sep, n[s], s; sep = ", "}}' <<< "$plan")" \
    "$ndev" "$DEVICE_BASE_PORT" $((secs / 1000)) $((secs % 1000)) "$LAB_DIR"
