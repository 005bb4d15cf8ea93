#!/bin/sh
# "Boot" one lab host. up.sh runs it as
#   ip netns exec orch-hI unshare --mount --uts --pid --fork --kill-child --propagation private \
#       sh host-boot.sh ROOT NAME ADDRESS/PREFIX REPO START_CRON STATE
# so it is PID 1 of a fresh PID namespace, in the host's own network, mount and UTS
# namespaces; every mount made here vanishes with the host. ROOT is the host's overlay root.
# STATE (lab-layout.py) plants what the inspections must find; the problems are real (real
# zombies, real failed SSH logins, a real pending update), only their causes are staged.
# It ends by exec'ing sshd as the host's PID 1 (sshd reaps the orphans, e.g. cron's workers).
set -eu
r=$1 name=$2 addr=$3 repo=$4 start_cron=$5 state=${6:-healthy}
here=$(cd "$(dirname "$0")" && pwd)

# A package with a pending update from a suite that looks like Debian's security suite:
# labssl 1.0 installed, 1.0+deb12u1 in the host's own "security" repo, apt lists fetched.
plant_security_update() {
    sec=$r/srv/labsecurity
    if [ ! -f "$sec/Release" ]; then
        REPO=$sec bash "$here/repo-add.sh" labssl 1.0
        REPO=$sec bash "$here/repo-add.sh" labssl 1.0+deb12u1
        {
            printf 'Origin: Lab\nLabel: Lab-Security\nSuite: bookworm-security\n'
            printf 'Codename: bookworm-security\nDate: %s\nSHA256:\n' "$(date -Ru)"
            printf ' %s %s Packages\n' "$(sha256sum < "$sec/Packages" | cut -d' ' -f1)" \
                "$(stat -c %s "$sec/Packages")"
        } > "$sec/Release"
    fi
    chroot "$r" dpkg -s labssl > /dev/null 2>&1 \
        || chroot "$r" dpkg -i /srv/labsecurity/labssl_1.0_all.deb
    echo 'deb [trusted=yes] file:/srv/labsecurity ./' > "$r/etc/apt/sources.list.d/lab-security.list"
    LAB_BOOT=1 chroot "$r" apt-get -qq update
}

# Weekly-inspection findings: a second uid-0 account, a service account whose password
# expires in 5 days, a 1.2 GB log file (sparse: it costs no disk) and (started in the host
# below) a stray listener on tcp/8080.
plant_weekly_findings() {
    chroot "$r" id -u toor > /dev/null 2>&1 || chroot "$r" useradd -o -u 0 -g 0 -M -d /root toor
    if ! chroot "$r" id -u svcbackup > /dev/null 2>&1; then
        chroot "$r" useradd -m -s /bin/sh svcbackup
        # A random throwaway password (the lab's sshd refuses passwords anyway).
        printf 'svcbackup:%s\n' "$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')" \
            | chroot "$r" chpasswd
    fi
    # Changed 85 days ago, valid for 90: 5 days left at every boot.
    chroot "$r" chage -d "$(date -d '-85 days' +%F)" -M 90 -W 7 svcbackup
    mkdir -p "$r/var/log/app"
    if [ ! -e "$r/var/log/app/export.log" ]; then
        printf '2026-01-0%s 01:00:00 export[77]: DEBUG row batch %s\n' 1 1 2 2 3 3 \
            > "$r/var/log/app/export.log"
        truncate -s 1200M "$r/var/log/app/export.log"
    fi
}

# An "attacker" trying invalid users over SSH (at boot, then every 10 minutes from cron): the
# host's real sshd records each attempt in /var/log/btmp, where `lastb` reads them.
plant_auth_failures() {
    cat > "$r/usr/local/sbin/lab-bruteforce" << 'SCRIPT'
#!/bin/sh
# Lab only: failed SSH logins as invalid users, recorded by this host's sshd in btmp.
for u in ${*:-admin oracle test}; do
    ssh -n -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o ConnectTimeout=5 -o LogLevel=QUIET "$u@127.0.0.1" true
done
exit 0
SCRIPT
    chmod 755 "$r/usr/local/sbin/lab-bruteforce"
    echo '*/10 * * * * root /usr/local/sbin/lab-bruteforce > /dev/null 2>&1' \
        > "$r/etc/cron.d/lab-bruteforce"
}

# Patch rollouts: a `reboot` that really reboots this lab host (host-power.sh boots it again
# with a new boot id), and a count of apt runs (tests check that a resumed rollout does not
# patch a host twice). Lab only; written at every boot, like the host's other files.
plant_patch_tools() {
    mkdir -p "$r/usr/local/sbin" "$r/etc/apt/apt.conf.d"
    cat > "$r/usr/local/sbin/reboot" << 'SCRIPT'
#!/bin/sh
# Lab only (lab/host-boot.sh): reboot this lab host. PID 1 (sshd) exits cleanly on SIGTERM,
# which ends every process of the host; lab/host-power.sh boots it again after a delay, with
# a fresh /run and a new /run/lab-boot-id.
echo "lab: $(hostname) is going down for reboot now" >&2
setsid -f sh -c 'sleep 1; kill -TERM 1' > /dev/null 2>&1 < /dev/null
exit 0
SCRIPT
    chmod 755 "$r/usr/local/sbin/reboot"
    cat > "$r/etc/apt/apt.conf.d/99lab-count-runs" << 'CONF'
// Lab only (lab/host-boot.sh): one line per apt-get update and per dpkg run, so tests can
// count how often a host was patched (the boot's own update, LAB_BOOT=1, does not count).
APT::Update::Pre-Invoke { "test -z $LAB_BOOT && echo update >> /var/log/lab-apt-runs.log || true"; };
DPkg::Pre-Invoke { "test -z $LAB_BOOT && echo dpkg >> /var/log/lab-apt-runs.log || true"; };
CONF
}

ip link set lo up
# replace, not add: after a lab reboot (host-power.sh) eth0 still has its address.
ip addr replace "$addr" dev eth0
ip link set eth0 up
hostname "$name"

# /proc with /proc/sys read-only and /sys read-only: a runbook run as root on a lab host
# must not be able to tune the real kernel.
mount -t proc proc "$r/proc"
mount --bind "$r/proc/sys" "$r/proc/sys"
mount -o remount,bind,ro "$r/proc/sys"
mount -t sysfs -o ro sysfs "$r/sys"
mount -t tmpfs -o mode=755,size=16m tmpfs "$r/run"
# This boot's id: lab hosts share the machine's kernel, whose boot_id never changes; the
# inventory's boot_id_file points runbooks here (group_vars/linux.yml).
cat /proc/sys/kernel/random/uuid > "$r/run/lab-boot-id"
mount -t tmpfs -o mode=1777,size=64m tmpfs "$r/tmp"
# A private, minimal /dev: no disks, no host ttys.
mount -t tmpfs -o mode=755,size=1m tmpfs "$r/dev"
mkdir "$r/dev/pts" "$r/dev/shm"
for n in null zero full random urandom tty; do
    : > "$r/dev/$n"
    mount --bind "/dev/$n" "$r/dev/$n"
done
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$r/dev/pts"
ln -s pts/ptmx "$r/dev/ptmx"
ln -s /proc/self/fd "$r/dev/fd"
mount --bind -o ro "$repo" "$r/srv/labrepo"
mkdir -p "$r/run/sshd"

plant_patch_tools

case $state in
    security_update) plant_security_update ;;
    weekly_findings) plant_weekly_findings ;;
    auth_failures) plant_auth_failures ;;
esac

# Root inside a host is real root on the real kernel: drop the capabilities that would let
# it reach beyond the host (mount, modules, raw disks/mknod, the clock, reboot, routing).
# Processes of a planted state start inside the host, before sshd:
#   zombie_process   a parent that never reaps its children: 3 zombies as long as it lives
#   weekly_findings  a forgotten debug listener on tcp/8080 (all addresses)
#   auth_failures    a burst of 12 failed logins once sshd listens
# shellcheck disable=SC2016  # $1 and $2 are expanded by the inner sh
exec setpriv --bounding-set -sys_admin,-sys_module,-sys_rawio,-mknod,-sys_time,-sys_boot,-net_admin \
    chroot "$r" /bin/sh -c '
        if [ "$1" = yes ]; then /usr/sbin/cron; fi
        case $2 in
            zombie_process) sh -c "sleep 0 & sleep 0 & sleep 0 & exec sleep infinity" & ;;
            weekly_findings)
                python3 -c "import socket, time; s = socket.create_server((\"\", 8080)); time.sleep(1e9)" & ;;
            auth_failures) (sleep 1; exec /usr/local/sbin/lab-bruteforce admin oracle test guest \
                ubuntu pi user support ftp postgres mysql git) > /dev/null 2>&1 & ;;
        esac
        exec /usr/sbin/sshd -D -e' sh "$start_cron" "$state"
