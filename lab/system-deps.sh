#!/bin/bash
# Install the Debian 12 packages the lab, the project venv and the tests need, if any are missing.
# A fast no-op when everything is present (no apt-get update then).
#
# Usage: lab/system-deps.sh      (root)
# Never starts a system sshd: openssh-server is installed for its binaries only (the lab
# hosts run their own sshd from the lab rootfs), so service starts are blocked meanwhile.
set -euo pipefail

# package -> a file it provides, checked first because `dpkg -s` per package is slower.
declare -A PROVIDES=(
    [openssh-server]=/usr/sbin/sshd
    [openssh-client]=/usr/bin/ssh-keygen
    [debootstrap]=/usr/sbin/debootstrap
    [dpkg-dev]=/usr/bin/dpkg-scanpackages
    [iproute2]=/usr/sbin/ip
    [util-linux]=/usr/bin/unshare
    [python3-venv]=""
    [sqlite3]=/usr/bin/sqlite3
    [procps]=/usr/bin/pgrep
    [make]=/usr/bin/make
    [ca-certificates]=/etc/ssl/certs/ca-certificates.crt
    # headless browser for the report test (renders the HTML report, prints it to PDF)
    [chromium]=/usr/bin/chromium
    # repacked into the lab's apt repo (lab/repo-python-apt.sh): ansible's apt module needs it
    [python3-apt]=""
)

missing=()
for pkg in "${!PROVIDES[@]}"; do
    file=${PROVIDES[$pkg]}
    if [ -n "$file" ] && [ -e "$file" ]; then continue; fi
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} = 0 ]; then
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "lab: missing system packages: ${missing[*]}" >&2
    echo "lab: run as root to install them: sudo $0" >&2
    exit 1
fi

echo "lab: installing ${missing[*]}" >&2
# policy-rc.d exit 101 = "do not start services" for invoke-rc.d and deb-systemd-invoke.
# Only ours is removed afterwards; an existing one (common in containers) is left alone.
own_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    own_policy=yes
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
if [[ " ${missing[*]} " == *" openssh-server "* ]] && [ -n "$own_policy" ] \
        && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    # Keep it from starting at the next boot as well; the lab never uses the machine's :22.
    systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true
fi
echo "lab: system packages ready" >&2
