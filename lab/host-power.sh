#!/bin/bash
# Keep one lab host "powered": run its boot command, and boot it again when it reboots.
# up.sh starts every host through it:
#   host-power.sh DELAY ip netns exec orch-hI unshare ... sh host-boot.sh ROOT NAME ...
# (its command line contains "host-boot.sh ROOT ", which is how up.sh and hosts_stop
# recognise the host's process).
#
# A lab host's PID 1 is its sshd. Its only clean way out is SIGTERM, which is what the lab's
# `reboot` inside the host sends (host-boot.sh writes /usr/local/sbin/reboot): sshd exits 0,
# the kernel ends every process of the host (its SSH sessions drop, as in a real reboot), and
# this loop boots the host again after DELAY seconds. In between, connecting is refused.
# Every boot mounts a fresh /run, with a new boot id in /run/lab-boot-id (lab hosts share
# this machine's kernel, so /proc/sys/kernel/random/boot_id never changes for them).
# Any other end of the host (killed by hosts_stop, a crash) ends this loop too.
set -u

delay=$1
shift
while :; do
    "$@"
    rc=$?
    [ "$rc" = 0 ] || exit "$rc"
    echo "lab: host rebooting: it boots again in ${delay}s ($(date -u +%FT%TZ))"
    sleep "$delay"
done
