#!/bin/bash
# Publish python3-apt (and the two data packages it depends on) into the lab's apt repo, so
# ansible's `apt` module works on lab hosts: like on any Debian host, the module installs
# python3-apt from the host's apt sources the first time it runs.
#
# Usage: lab/repo-python-apt.sh      (root; idempotent; REPO overrides $LAB_DIR/repo)
# Lab hosts have no route out, and this script fetches nothing either: it rebuilds the .debs
# from the copies installed on this machine (Debian 12, the lab hosts' release), the way
# dpkg-repack does: the files dpkg lists for the package, its control fields and its
# maintainer scripts. lab/system-deps.sh installs python3-apt on the machine.
set -euo pipefail

LAB_DIR=${LAB_DIR:-/var/tmp/orchestrator-lab}
REPO=${REPO:-$LAB_DIR/repo}
PACKAGES=(python3-apt python-apt-common distro-info-data)

repack() { # PACKAGE
    local pkg=$1 arch ver build deb script
    arch=$(dpkg-query -W -f '${Architecture}' "$pkg")
    ver=$(dpkg-query -W -f '${Version}' "$pkg")
    deb=$REPO/${pkg}_${ver//:/%3a}_${arch}.deb
    [ -f "$deb" ] && return 0
    build=$(mktemp -d)
    chmod 755 "$build" # the package root: never 0700
    mkdir -p "$build/DEBIAN"
    # Every path dpkg lists for it (its directories too, for their modes), as installed.
    dpkg-query -L "$pkg" | grep -v '^/\.$' | sed 's|^/||' \
        | tar -C / --no-recursion -cf - -T - | tar -C "$build" -xf -
    dpkg-query -s "$pkg" | grep -v -e '^Status:' -e '^Conffiles:' -e '^ /.* [0-9a-f]\{32\}' \
        > "$build/DEBIAN/control"
    for script in preinst postinst prerm postrm; do
        if [ -f "/var/lib/dpkg/info/$pkg.$script" ]; then
            install -m 755 "/var/lib/dpkg/info/$pkg.$script" "$build/DEBIAN/$script"
        elif [ -f "/var/lib/dpkg/info/$pkg:$arch.$script" ]; then
            install -m 755 "/var/lib/dpkg/info/$pkg:$arch.$script" "$build/DEBIAN/$script"
        fi
    done
    dpkg-query -W -f '${Conffiles}\n' "$pkg" | awk 'NF {print $1}' > "$build/DEBIAN/conffiles"
    [ -s "$build/DEBIAN/conffiles" ] || rm "$build/DEBIAN/conffiles"
    mkdir -p "$REPO"
    dpkg-deb -Zgzip --root-owner-group -b "$build" "$deb" > /dev/null
    rm -rf "$build"
}

for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W "$pkg" > /dev/null 2>&1 || {
        echo "lab: $pkg is not installed on this machine (apt-get install python3-apt)" >&2
        exit 1
    }
    repack "$pkg"
done
(cd "$REPO" && dpkg-scanpackages -m . /dev/null 2> /dev/null > Packages.tmp && mv Packages.tmp Packages)
echo "repo $REPO: ${PACKAGES[*]} repacked from this machine"
