"""The shell pipelines of the Linux inspection steps, run by /bin/sh as rendered by the
runbook, with the system tools they read (ss, getent, find, ps, smartctl...) replaced by
scripts printing realistic output: the awk logic is what is under test."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestrator.engine.step import render_action
from tests.unit.runbooks.offline import shipped

# Real tools the pipelines use besides the replaced ones.
REAL_TOOLS = ("awk", "sort", "grep", "cut", "tail", "wc", "cat", "date", "printf", "echo", "sh")


def render(step_name: str, **host_vars: Any) -> str:
    runbook = shipped("weekly-inspection")
    step = next(s for s in runbook.steps if s.name == step_name)
    context = {**runbook.vars, **host_vars}
    command = render_action(step, context)
    assert isinstance(command, str)
    return command


def run(command: str, bin_dir: Path, stubs: Mapping[str, str]) -> str:
    bin_dir.mkdir(exist_ok=True)
    for tool in REAL_TOOLS:
        found = shutil.which(tool)
        if found and not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(found)
    for name, script in stubs.items():
        path = bin_dir / name
        path.write_text("#!/bin/sh\n" + script)
        path.chmod(0o755)
    proc = subprocess.run(
        ["/bin/sh", "-c", command],
        env={"PATH": str(bin_dir), "LC_ALL": "C"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


SS = """cat <<'EOF'
udp   UNCONN 0      0          127.0.0.53%lo:53        0.0.0.0:*
udp   UNCONN 0      0         0.0.0.0%eth0:68          0.0.0.0:*
udp   UNCONN 0      0              127.0.0.1:323       0.0.0.0:*
udp   UNCONN 0      0                  [::1]:323          [::]:*
tcp   LISTEN 0      128              0.0.0.0:22        0.0.0.0:*
tcp   LISTEN 0      4096           127.0.0.1:5432      0.0.0.0:*
tcp   LISTEN 0      511                    *:8080            *:*
tcp   LISTEN 0      128                 [::]:22           [::]:*
tcp   LISTEN 0      4096   [::ffff:127.0.0.1]:9000           *:*
EOF
"""


def test_listening_ports_once_each_without_loopback(tmp_path: Path) -> None:
    out = run(render("listening ports"), tmp_path / "bin", {"ss": SS})
    assert out.split() == ["udp/68", "tcp/22", "tcp/8080"]


def test_service_account_days_left(tmp_path: Path) -> None:
    today = int(time.time()) // 86400
    shadow = "\n".join(
        [
            "root:*:19000:0:99999:7:::",
            f"svcbackup:$y$hash:{today - 85}:0:90:7:::",
            f"oracle:$6$hash:{today - 100}:0:90:7:::",
            "batch:$6$hash:0:0:90:7:::",
            "nopolicy:$6$hash::0::7:::",
            f"alice:$6$hash:{today}:0:30:7:::",
        ]
    )
    stubs = {"getent": f"cat <<'EOF'\n{shadow}\nEOF\n"}
    names = ["root", "svcbackup", "oracle", "batch", "nopolicy", "ghost"]
    out = run(render("service account passwords", service_accounts=names), tmp_path / "b", stubs)
    assert dict(line.split() for line in out.splitlines()) == {
        "root": "99999",
        "svcbackup": "5",
        "oracle": "-10",
        "batch": "0",
        "nopolicy": "99999",
    }


def test_large_log_files_are_listed_with_the_largest(tmp_path: Path) -> None:
    find = """cat <<'EOF'
1258291200 /var/log/app/export.log
52428800 /var/log/syslog.1
4096 /var/log/with space.log
3221225472 /var/log/journal/big file.journal
EOF
"""
    out = run(render("large log files", large_log_warn_mb=40), tmp_path / "bin", {"find": find})
    assert out.splitlines() == [
        "3072.0 /var/log/journal/big file.journal",
        "1200.0 /var/log/app/export.log",
        "50.0 /var/log/syslog.1",
    ]
    small = run(render("large log files"), tmp_path / "bin", {"find": find})
    assert small.splitlines() == [
        "3072.0 /var/log/journal/big file.journal",
        "1200.0 /var/log/app/export.log",
    ]


def test_zombies_must_still_be_there_a_second_later(tmp_path: Path) -> None:
    # First sample: 2 zombies (pids 40, 41); second sample: 41 was reaped, 52 just appeared.
    state = tmp_path / "ps-calls"
    ps = (
        f"n=$(cat {state} 2>/dev/null || echo 0); echo $((n + 1)) > {state}\n"
        "if [ \"$n\" = 0 ]; then printf '1 Ss\\n40 Z\\n41 Z\\n60 S\\n';\n"
        "else printf '1 Ss\\n40 Z\\n52 Z+\\n'; fi\n"
    )
    out = run(render("zombie processes"), tmp_path / "bin", {"ps": ps, "sleep": "exit 0"})
    assert out.strip() == "1"


def test_smart_health_per_disk(tmp_path: Path) -> None:
    smartctl = """case "$1" in
--scan) cat <<'EOF'
/dev/sda -d scsi # /dev/sda, SCSI device
/dev/nvme0 -d nvme # /dev/nvme0, NVMe device
/dev/sdb -d scsi # /dev/sdb, SCSI device
EOF
;;
-H) case "$2" in
    /dev/sda) echo 'SMART overall-health self-assessment test result: PASSED' ;;
    /dev/nvme0) echo 'SMART overall-health self-assessment test result: FAILED!' ;;
    /dev/sdb) echo 'SMART Health Status: OK' ;;
    esac
    echo
    echo '=== START OF READ SMART DATA SECTION ==='
    ;;
esac
"""
    out = run(render("disk health (SMART)"), tmp_path / "bin", {"smartctl": smartctl})
    assert out.splitlines() == ["/dev/sda PASSED", "/dev/nvme0 FAILED!", "/dev/sdb OK"]


def test_kernel_running_and_newest_installed(tmp_path: Path) -> None:
    stubs = {
        "uname": "echo 6.1.0-17-amd64\n",
        "ls": "printf '6.1.0-9-amd64\\n6.1.0-18-amd64\\n6.1.0-17-amd64\\n'\n",
    }
    out = run(render("kernel"), tmp_path / "bin", stubs)
    assert out.strip() == "running=6.1.0-17-amd64 newest=6.1.0-18-amd64"


def test_tools_lists_what_exists(tmp_path: Path) -> None:
    stubs = {"lastb": "exit 0\n", "ss": "exit 0\n", "smartctl": "exit 0\n"}
    out = run(render("tools"), tmp_path / "bin", stubs).split()
    assert {"lastb", "ss", "smartctl"} <= set(out)
    assert not {"apt-get", "dnf", "yum", "systemctl"} & set(out)
    assert os.path.isdir("/run/systemd/system") == ("systemd" in out)
