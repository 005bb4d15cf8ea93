#!/bin/bash
# Build the shared, read-only lower layer of every lab host, once, and cache it:
#   $LAB_DIR/rootfs                Debian bookworm minbase + sshd, cron, python3 (for ansible),
#                                  iproute2, procps, and the fake package labapp 1.0 installed
#   $LAB_DIR/rootfs.recipe.sha256  hash of this recipe; a changed recipe means a rebuild
#
# Usage: lab/rootfs.sh [--force]     (root; about 1 minute when it really builds)
# apt inside the rootfs points ONLY at the lab's local repo (file:/srv/labrepo): lab hosts
# have no route out, so a Debian mirror there would only make apt-get hang.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lab/lab-lib.sh
. "$HERE/lab-lib.sh"
require_root "$@"

ROOTFS=$LAB_DIR/rootfs
STAMP=$LAB_DIR/rootfs.recipe.sha256
# The mirror this machine's apt already uses (it is reachable from CI too).
MIRROR=${MIRROR:-$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources \
    2>/dev/null || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
INCLUDE=openssh-server,python3,iproute2,procps,cron

# What the rootfs is made of: this file and the fake-package recipe it uses (comments and
# blank lines aside, so editing a comment does not cost a rebuild).
recipe_hash() {
    grep -hv -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$HERE/rootfs.sh" "$HERE/repo-add.sh" \
        | sha256sum | cut -d' ' -f1
}

if [ "${1:-}" != --force ] && [ -x "$ROOTFS/usr/sbin/sshd" ] \
        && [ "$(cat "$STAMP" 2>/dev/null)" = "$(recipe_hash)" ]; then
    log "rootfs cached: $ROOTFS"
    exit 0
fi
# Replacing the lower layer under mounted overlays would corrupt running hosts: keep using
# the old one until the lab is down.
if grep -q " $LAB_DIR/hosts/" /proc/mounts; then
    [ -x "$ROOTFS/usr/sbin/sshd" ] || die "no usable rootfs and lab hosts are mounted: run lab/down.sh"
    log "WARNING: the rootfs recipe changed; it is rebuilt at the next up.sh after lab/down.sh"
    exit 0
fi

log "building rootfs ($INCLUDE) from $MIRROR ..."
started=$(date +%s)
NEW=$ROOTFS.new
remove_tree "$NEW"
mkdir -p "$LAB_DIR"
# If anything fails half way, $NEW goes (debootstrap may leave /proc etc. mounted inside it).
trap 'remove_tree "$NEW"' EXIT
debootstrap --variant=minbase --include="$INCLUDE" bookworm "$NEW" "$MIRROR" \
    > "$LAB_DIR/rootfs-build.log" 2>&1 \
    || die "debootstrap failed, see $LAB_DIR/rootfs-build.log"

# Maintainer scripts must never try to start services (there is no init in a lab host).
printf '#!/bin/sh\nexit 101\n' > "$NEW/usr/sbin/policy-rc.d"
chmod +x "$NEW/usr/sbin/policy-rc.d"

# labapp 1.0 is preinstalled everywhere; `lab/repo-add.sh labapp 1.1` makes an upgrade available.
pkgs=$(mktemp -d)
REPO=$pkgs bash "$HERE/repo-add.sh" labapp 1.0 >/dev/null
cp "$pkgs/labapp_1.0_all.deb" "$NEW/tmp/"
rm -rf "$pkgs"
chroot "$NEW" dpkg -i /tmp/labapp_1.0_all.deb >> "$LAB_DIR/rootfs-build.log" 2>&1
rm -f "$NEW/tmp/labapp_1.0_all.deb"

chroot "$NEW" apt-get clean
rm -rf "$NEW"/var/lib/apt/lists/* "$NEW"/etc/apt/sources.list.d/*
echo 'deb [trusted=yes] file:/srv/labrepo ./' > "$NEW/etc/apt/sources.list"
mkdir -p "$NEW/srv/labrepo"

# Every host gets its own stable host key at boot (up.sh); none may be shared.
rm -f "$NEW"/etc/ssh/ssh_host_*
# MaxStartups: the default 10:30:100 randomly drops 30% of a >10-way fan-out.
# KexAlgorithms: the default sntrup761 kex costs ~8x the CPU of curve25519 on this box.
cat > "$NEW/etc/ssh/sshd_config.d/lab.conf" <<'SSHD'
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org
MaxStartups 200:30:400
MaxSessions 50
UseDNS no
SSHD
mkdir -p "$NEW/root/.ssh"
chmod 700 "$NEW/root/.ssh"
: > "$NEW/etc/machine-id"

remove_tree "$ROOTFS"
mv "$NEW" "$ROOTFS"
recipe_hash > "$STAMP"
log "rootfs built in $(( $(date +%s) - started )) s: $ROOTFS ($(du -sh "$ROOTFS" | cut -f1))"
