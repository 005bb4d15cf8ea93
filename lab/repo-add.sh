#!/bin/bash
# Publish a tiny fake package into the lab's local apt repo, which every lab host
# sees read-only at file:/srv/labrepo (its only apt source).
#
# Usage: lab/repo-add.sh NAME VERSION      e.g. lab/repo-add.sh labapp 1.1
#
# The package installs /opt/NAME/VERSION and the conffile /etc/NAME.conf, so an
# upgrade gives real dpkg behaviour (conffile prompts, --force-confold, holds).
# Publishing a newer version makes `apt-get update && apt list --upgradable` on
# the hosts show it: that is how patch-rollout tests get "an update available".
# REPO overrides the target directory (rootfs.sh uses that to build labapp 1.0).
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 NAME VERSION" >&2
    exit 2
fi
NAME=$1
VER=$2
LAB_DIR=${LAB_DIR:-/var/tmp/orchestrator-lab}
REPO=${REPO:-$LAB_DIR/repo}

build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
mkdir -p "$build/DEBIAN" "$build/opt/$NAME" "$build/etc" "$REPO"
echo "$VER" > "$build/opt/$NAME/VERSION"
echo "# $NAME config shipped with $VER" > "$build/etc/$NAME.conf"
echo "/etc/$NAME.conf" > "$build/DEBIAN/conffiles"
cat > "$build/DEBIAN/control" <<CONTROL
Package: $NAME
Version: $VER
Architecture: all
Maintainer: orchestrator lab <lab@localhost>
Section: misc
Priority: optional
Description: fake package $NAME for patch-rollout tests
CONTROL
# gzip (not zstd): bookworm's dpkg reads both, but gzip keeps old tools happy.
dpkg-deb -Zgzip --root-owner-group -b "$build" "$REPO/${NAME}_${VER}_all.deb" >/dev/null
# Re-index; -m keeps every version so rollbacks (downgrades) can be installed too.
(cd "$REPO" && dpkg-scanpackages -m . /dev/null 2>/dev/null > Packages.tmp && mv Packages.tmp Packages)
echo "repo $REPO: $(find "$REPO" -maxdepth 1 -name '*.deb' | wc -l) packages (added ${NAME} ${VER})"
