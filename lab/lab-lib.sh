# shellcheck shell=bash disable=SC2034  # sourced: the variables are used by the scripts
# Shared definitions for the lab scripts (sourced, not run).
# Names and addresses here are the lab's contract with the rest of the project:
#   bridge orchbr0 = 10.98.0.1/16, host hI = namespace orch-hI, address host_addr I,
#   host-side veth vorch-hI, all state under $LAB_DIR.
# A second lab can run beside the default one (the benchmark does) with its own
#   LAB_NAME (bridge ${LAB_NAME}br0, namespaces ${LAB_NAME}-hI, veths v${LAB_NAME}-hI),
#   LAB_NET (subnet 10.LAB_NET.0.0/16), DEVICE_BASE_PORT and LAB_DIR.
# lab-layout.py derives the same names from the same variables.

LAB_DIR=${LAB_DIR:-/var/tmp/orchestrator-lab}
LAB_DIR=${LAB_DIR%/}
LAB_NAME=${LAB_NAME:-orch}
LAB_NET=${LAB_NET:-98}
if ! [[ $LAB_NAME =~ ^[a-z][a-z0-9]{0,5}$ ]]; then
    # veth "v${LAB_NAME}-h1000" must fit the kernel's 15-character interface names
    echo "lab: error: LAB_NAME must be 1-6 lowercase letters/digits, starting with a letter" >&2
    exit 1
fi
if ! [[ $LAB_NET =~ ^[0-9]+$ ]] || [ "$LAB_NET" -lt 1 ] || [ "$LAB_NET" -gt 254 ]; then
    echo "lab: error: LAB_NET must be a number 1-254 (the subnet is 10.LAB_NET.0.0/16)" >&2
    exit 1
fi
BRIDGE=${LAB_NAME}br0
BRIDGE_ADDR=10.$LAB_NET.0.1
PREFIX_LEN=16
NS_PREFIX=$LAB_NAME-
# Stable per-host MACs (up.sh appends the host index); another lab gets its own range.
if [ "$LAB_NET" = 98 ]; then MAC_PREFIX=02:98:00:00; else MAC_PREFIX=$(printf '02:98:%02x:00' "$LAB_NET"); fi
DEVICE_BASE_PORT=${DEVICE_BASE_PORT:-6001}
# fakenos platform[:count][@state] specs; devices are sw1.. in this order. Empty (set but ""):
# none. States other than healthy plant problems for the inspections (lab/device_model.py).
LAB_DEVICES=${LAB_DEVICES-"cisco_ios:2 arista_eos huawei_vrp hp_comware huawei_vrp@unsaved_config hp_comware@port_problems"}
export LAB_DIR LAB_NAME LAB_NET # lab-layout.py reads them

log() { echo "lab: $*" >&2; }
die() {
    echo "lab: error: $*" >&2
    exit 1
}

require_root() {
    if [ "$(id -u)" != 0 ]; then
        die "must run as root (network namespaces, mounts, chroot): sudo $0 $*"
    fi
}

# h1 -> 10.98.0.10, h247 -> 10.98.1.0 ... (k = I + 9 keeps .1-.9 for the bridge side)
host_addr() {
    local k=$(($1 + 9))
    echo "10.$LAB_NET.$((k / 256)).$((k % 256))"
}

# The project venv's python (fakenos, PyYAML); VENV may be relative to the repo root.
venv_python() {
    local venv=${VENV:-.venv}
    case $venv in /*) ;; *) venv=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/$venv ;; esac
    echo "$venv/bin/python"
}

# rm -rf that never follows a mount: unmount everything below $1 first (deepest first),
# and stay on one filesystem. A half-built debootstrap can hold /proc or /dev binds.
remove_tree() {
    local dir=$1 m
    [ -e "$dir" ] || return 0
    # shellcheck disable=SC2013  # mount points under $LAB_DIR have no blanks
    for m in $(awk -v d="$dir/" 'index($2, d) == 1 || $2 == substr(d, 1, length(d) - 1) {print $2}' \
            /proc/mounts | sort -r); do
        umount "$m" 2>/dev/null || umount -l "$m"
    done
    rm -rf --one-file-system "$dir"
}

# Is this pid alive and still the process we started (pid reuse)?  pid_is PID WORD
pid_is() {
    local args=()
    [ -n "$1" ] && [ -r "/proc/$1/cmdline" ] || return 1
    mapfile -d '' args < "/proc/$1/cmdline" 2>/dev/null || return 1
    [[ " ${args[*]} " == *"$2"* ]]
}

# What the cmdline of host hI's unshare contains (and nothing else's does).
host_boot_word() { echo "host-boot.sh $LAB_DIR/hosts/$1/root "; }
# ... and that of this lab's fakenos process.
DEVICES_WORD="devices.py --lab-dir $LAB_DIR "

# Kill PID if it is still the process we started (its cmdline contains WORD); wait up to 3 s.
stop_pid() { # PID WORD
    pid_is "$1" "$2" || return 0
    kill "$1" 2>/dev/null || true
    for _ in $(seq 30); do
        pid_is "$1" "$2" || return 0
        sleep 0.1
    done
    kill -9 "$1" 2>/dev/null || true
}

# Stop hosts (names hI ...): their processes, namespaces, veths and mounts, in bulk (a handful
# of processes in all, so 200 hosts go in seconds). Keeps $LAB_DIR/hosts/hI (the writable
# layer): the caller decides whether host state survives.
hosts_stop() {
    local h pid pids=() namespaces=() left=() pattern
    [ $# -gt 0 ] || return 0
    for h in "$@"; do
        pid=""
        read -r pid 2>/dev/null < "$LAB_DIR/hosts/$h/pid" || true
        if pid_is "$pid" "$(host_boot_word "$h")"; then pids+=("$pid"); fi
        if [ -e "/run/netns/$NS_PREFIX$h" ]; then namespaces+=("$NS_PREFIX$h"); fi
    done
    # unshare ignores SIGTERM while it waits; SIGKILL it and --kill-child SIGKILLs the host's
    # PID 1, which ends every process of the host (nothing in a lab host needs a clean stop).
    if [ ${#pids[@]} -gt 0 ]; then kill -9 "${pids[@]}" 2>/dev/null || true; fi
    # Anything else inside (a process started by hand with `ip netns exec`) goes too, and is
    # waited for: a process inside a host pins its mounts.
    for _ in $(seq 50); do
        mapfile -t pids < <(netns_pids "${namespaces[@]}")
        [ ${#pids[@]} = 0 ] && break
        kill -9 "${pids[@]}" 2>/dev/null || true
        sleep 0.1
    done
    # The veth pairs go with their namespaces: the kernel tears down the devices of many
    # dying namespaces in one batch, much faster than `ip link del` one by one.
    if [ ${#namespaces[@]} -gt 0 ]; then
        printf 'netns del %s\n' "${namespaces[@]}" | ip -force -batch - 2>/dev/null || true
    fi
    for _ in $(seq 100); do
        left=()
        for h in "$@"; do [ -e "/sys/class/net/v$NS_PREFIX$h" ] && left+=("$h"); done
        [ ${#left[@]} = 0 ] && break
        sleep 0.1
    done
    for h in "${left[@]}"; do ip link del "v$NS_PREFIX$h" 2>/dev/null || true; done
    # Mounts of these hosts, deepest first ($LAB_DIR/hosts/hI/root, then .../fs).
    pattern="^$LAB_DIR/hosts/($(IFS='|'; echo "$*"))/"
    umount_matching "$pattern"
    for h in "$@"; do rm -f "$LAB_DIR/hosts/$h/pid" "$LAB_DIR/hosts/$h/state"; done
}

host_stop() { hosts_stop "$1"; }

# Global pids of the processes in the named network namespaces (by namespace inode).
netns_pids() {
    [ $# -gt 0 ] || return 0
    (cd /run/netns && stat -L -c %i "$@" 2>/dev/null) \
        | awk 'NR == FNR {ns[$1]; next} ($1 in ns) {split($2, p, "/"); print p[3]}' \
            - <(stat -L -c '%i %n' /proc/[0-9]*/ns/net 2>/dev/null)
}

# Unmount every mount whose mount point matches the awk regex $1, deepest first.
umount_matching() {
    local mounts=() m
    mapfile -t mounts < <(awk -v re="$1" '$2 ~ re {print $2}' /proc/mounts | sort -r)
    [ ${#mounts[@]} -gt 0 ] || return 0
    umount "${mounts[@]}" 2>/dev/null && return 0
    # shellcheck disable=SC2013  # mount points under $LAB_DIR have no blanks
    for m in $(awk -v re="$1" '$2 ~ re {print $2}' /proc/mounts | sort -r); do umount -l "$m"; done
}
