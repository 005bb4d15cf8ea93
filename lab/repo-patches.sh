#!/bin/bash
# shellcheck disable=SC2016  # postinst bodies are single-quoted: they expand on the host
# Publish the packages patch rollouts are tested with into the lab's apt repo (beside the
# labapp 1.0 every host has installed, which stays in the repo so rollbacks can downgrade):
#
#   labapp 1.1   a plain upgrade
#   labapp 1.2   its postinst asks for a reboot, as kernels and libc do: it touches
#                /var/run/reboot-required and adds itself to /var/run/reboot-required.pkgs
#   labapp 1.3   its postinst fails (exit 1) on a host where /etc/labapp.broken exists -- a
#                new version that rejects the host's local configuration. dpkg leaves the
#                package half-configured and apt-get exits 100, as on a real host.
#
# Usage: lab/repo-patches.sh        (idempotent; REPO overrides $LAB_DIR/repo)
# Real .debs built with dpkg-deb (each installs /opt/labapp/VERSION and the conffile
# /etc/labapp.conf); the repo is re-indexed with every version kept (dpkg-scanpackages -m).
# Hosts see them after `apt-get update`. Kept apart from repo-add.sh, whose recipe is part of
# the cached rootfs (changing it would rebuild the rootfs).
set -euo pipefail

LAB_DIR=${LAB_DIR:-/var/tmp/orchestrator-lab}
REPO=${REPO:-$LAB_DIR/repo}
NAME=labapp

build_one() { # VERSION POSTINST-BODY
    local ver=$1 postinst=$2 build
    [ -f "$REPO/${NAME}_${ver}_all.deb" ] && return 0
    build=$(mktemp -d)
    mkdir -p "$build/DEBIAN" "$build/opt/$NAME" "$build/etc"
    echo "$ver" > "$build/opt/$NAME/VERSION"
    echo "# $NAME config shipped with $ver" > "$build/etc/$NAME.conf"
    echo "/etc/$NAME.conf" > "$build/DEBIAN/conffiles"
    cat > "$build/DEBIAN/control" << CONTROL
Package: $NAME
Version: $ver
Architecture: all
Maintainer: orchestrator lab <lab@localhost>
Section: misc
Priority: optional
Description: fake package $NAME for patch-rollout tests
CONTROL
    if [ -n "$postinst" ]; then
        printf '#!/bin/sh\nset -e\n%s\nexit 0\n' "$postinst" > "$build/DEBIAN/postinst"
        chmod 755 "$build/DEBIAN/postinst"
    fi
    mkdir -p "$REPO"
    dpkg-deb -Zgzip --root-owner-group -b "$build" "$REPO/${NAME}_${ver}_all.deb" > /dev/null
    rm -rf "$build"
}

build_one 1.1 ""
build_one 1.2 'if [ "$1" = configure ]; then
    touch /var/run/reboot-required
    echo labapp >> /var/run/reboot-required.pkgs
fi'
build_one 1.3 'if [ "$1" = configure ] && [ -e /etc/labapp.broken ]; then
    echo "labapp 1.3: /etc/labapp.broken: this host'"'"'s configuration is not supported" >&2
    exit 1
fi'
(cd "$REPO" && dpkg-scanpackages -m . /dev/null 2> /dev/null > Packages.tmp && mv Packages.tmp Packages)
echo "repo $REPO: $(find "$REPO" -maxdepth 1 -name '*.deb' | wc -l) packages ($NAME 1.1, 1.2 reboot-required, 1.3 failing postinst where /etc/$NAME.broken exists)"
