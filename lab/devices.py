"""Fake network devices for the lab: fakenos on 127.0.0.1, kept up until SIGTERM/SIGINT.

Usage: devices.py --lab-dir DIR [--base-port 6001] [--stateful] PLATFORM[:COUNT] ...
  e.g. devices.py --lab-dir /var/tmp/orchestrator-lab --stateful cisco_ios:2 arista_eos huawei_vrp

Devices are sw1, sw2, ... on consecutive ports, login lab/lab (a throwaway lab credential),
password auth and an interactive shell only (fakenos accepts one channel per connection).
Each device has its own RSA host key, kept in DIR/hostkeys/swN so known_hosts stays valid
across restarts. Once every device listens, DIR/devices.json describes them (written
atomically; up.sh waits for it).

--stateful swaps fakenos' command shell for ``StatefulShell`` below: upstream fakenos has no
memory of configuration changes, so config-backup and config-change tests would see nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import paramiko
from device_model import BASE_CONFIG, UNSAVED_LINES, Device
from device_outputs import render
from fakenos import FakeNOS
from fakenos.plugins.servers import ssh_server_paramiko
from fakenos.plugins.shell.cmd_shell import CMDShell

USERNAME = PASSWORD = "lab"
# fakenos platform -> netmiko device_type, where they differ.
DEVICE_TYPE = {"huawei_vrp": "huawei"}
# Platforms configured the VRP way: system-view ... return, display commands, save.
VRP_LIKE = ("huawei_vrp", "hp_comware")
# Cisco-style sub-modes: the prompt becomes e.g. "sw1(config-if)#".
SUBMODES = ("interface ", "router ", "line ", "vlan ", "ip access-list ")
# Per device (sessions run in threads; list.append and dict assignment are atomic):
CONFIGS: dict[str, list[str]] = {}  # configuration lines entered (the running config)
SAVED: dict[str, list[str]] = {}  # the lines saved (the startup/saved config)
STATES: dict[str, str] = {}  # device name -> planted state (device_outputs.py)
SAVE_COMMANDS = ("write memory", "write mem", "write", "wr", "copy running-config startup-config")


class StatefulShell(CMDShell):  # type: ignore[misc]
    """CMDShell with a remembered configuration per device (across sessions).

    Cisco-like platforms: ``configure terminal`` ... ``end``; the lines show up at the end of
    ``show running-config`` (synthesized for platforms whose fakenos output lacks one) and, once
    saved (``write memory``), in ``show startup-config``.
    Huawei VRP / H3C Comware: ``system-view`` ... ``return``; ``display current-configuration``
    shows them, ``display saved-configuration`` once saved (``save``, ``save force``).
    The commands the inspections use answer from ``device_outputs`` (one model per device).
    """

    prompt: str
    base_prompt: str
    lastcmd: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lab_confirm = ""  # a command waiting for its [Y/N] answer
        if self.nos.name == "hp_comware":
            # Comware prompts are <name> and [name] (fakenos uses "name>").
            self.prompt = f"<{self.base_prompt}>"
            for data in self.commands.values():
                if data.get("prompt"):
                    data["prompt"] = ["<{base_prompt}>", "[{base_prompt}]"]

    def _cfg(self) -> list[str]:
        # Keyed by device name: fakenos shares one Nos object between devices of a platform,
        # and a shell lives only as long as its session.
        return CONFIGS.setdefault(self.base_prompt, [])

    def _saved(self) -> list[str]:
        return SAVED.setdefault(self.base_prompt, [])

    def _device(self) -> Device:
        name = self.base_prompt
        return Device(name, self.nos.name, STATES.get(name, "healthy"))

    def default(self, line: str) -> bool:
        line = line.strip()
        vrp = self.nos.name in VRP_LIKE
        handled = self._vrp(line) if vrp else self._cisco(line)
        if not handled:
            handled = self._inspected(line, vrp)
        if handled:
            return False
        stop: bool = super().default(line)
        return stop

    def _inspected(self, line: str, vrp: bool) -> bool:
        """Commands modelled in device_outputs (any exec/user/system view, not config mode)."""
        if not vrp and self.prompt not in (f"{self.base_prompt}>", f"{self.base_prompt}#"):
            return False
        text = render(self._device(), line)
        if text is None:
            return False
        self.writeline(text)
        return True

    def _cisco(self, line: str) -> bool:
        bp = self.base_prompt
        enable, conf = f"{bp}#", f"{bp}(config)"
        if self.prompt == enable and line in ("configure terminal", "conf t", "configure"):
            self.prompt = conf + "#"
            self.writeline("Enter configuration commands, one per line.  End with CNTL/Z.")
            return True
        if self.prompt.startswith(conf):
            if line == "end":
                self.prompt = enable
            elif line == "exit":
                self.prompt = conf + "#" if self.prompt != conf + "#" else enable
            else:
                in_sub = self.prompt != conf + "#" and not line.startswith(SUBMODES)
                self._cfg().append((" " if in_sub else "") + line)
                if line.startswith(SUBMODES):
                    self.prompt = f"{conf}-{line.split(maxsplit=1)[0][:2]})#"
            return True
        if self.prompt != enable:
            return False
        if line in ("show running-config", "show startup-config"):
            self.writeline(self._cisco_config(line, saved=line == "show startup-config"))
            return True
        if line in SAVE_COMMANDS:
            SAVED[bp] = list(self._cfg())
            done = "Copy completed successfully." if self.nos.name == "arista_eos" else "[OK]"
            self.writeline("Building configuration...\n" + done)
            return True
        return False

    def _cisco_config(self, command: str, *, saved: bool) -> str:
        """fakenos' own running-config (or a minimal one) with the remembered lines before end."""
        canned = self.commands.get("show running-config", {}).get("output")
        if callable(canned):
            text = str(
                canned(
                    self.nos.device,
                    base_prompt=self.base_prompt,
                    current_prompt=self.prompt,
                    command=command,
                )
            )
        else:
            text = f"!\nhostname {self.base_prompt}\n!\nend"
        text = text.rstrip().removesuffix("end").rstrip()
        lines = self._saved() if saved else self._cfg()
        body = text + ("\n" + "\n".join(lines) if lines else "") + "\nend"
        if not saved:
            return body
        header = {
            "arista_eos": "! Startup-config last modified at Thu Jan  1 00:00:00 2026 by lab",
        }.get(self.nos.name, "Using 4096 out of 2097152 bytes")
        return header + "\n" + body

    def _vrp(self, line: str) -> bool:
        """Huawei VRP and H3C Comware: views, configuration display and save."""
        bp = self.base_prompt
        system = f"[{bp}]"
        user_prompts = (f"<{bp}>",) if self.nos.name == "hp_comware" else (f"{bp}>", f"{bp}#")
        if self.lab_confirm:
            command, self.lab_confirm = self.lab_confirm, ""
            if command == "save" and line.lower().startswith("y"):
                self._save()
            return True
        if line == "system-view" and self.prompt in user_prompts:
            self.lab_user_prompt = self.prompt
            self.prompt = system
            self.writeline(
                "System View: return to User View with Ctrl+Z."
                if self.nos.name == "hp_comware"
                else "Enter system view, return user view with Ctrl+Z."
            )
            return True
        if self.prompt.startswith(f"[{bp}") and self._vrp_config_line(line, system):
            return True
        if line in ("display current-configuration", "display saved-configuration"):
            self.writeline(self._vrp_config(saved=line == "display saved-configuration"))
            return True
        if line == "save force":
            self._save()
            return True
        if line == "save":
            self.lab_confirm = "save"
            self.writeline(
                "Warning: The current configuration will be written to the device. "
                "Are you sure to continue?[Y/N]:"
            )
            return True
        return False

    def _vrp_config_line(self, line: str, system: str) -> bool:
        """A line typed in system view (or an interface view below it)."""
        if line.startswith(("display ", "save")):
            return False  # display and save work in every view
        if line == "return":
            self.prompt = getattr(self, "lab_user_prompt", f"{self.base_prompt}>")
        elif line == "quit":
            in_sub = self.prompt != system
            self.prompt = system if in_sub else getattr(self, "lab_user_prompt", system)
        elif line.startswith("interface "):
            self._cfg().append(line)
            self.prompt = f"[{self.base_prompt}-{line.split(maxsplit=1)[1]}]"
        else:
            self._cfg().append((" " if self.prompt != system else "") + line)
        return True

    def _vrp_config(self, *, saved: bool) -> str:
        lines = BASE_CONFIG.get(self.nos.name, []) + (self._saved() if saved else self._cfg())
        head = "#\n version 7.1.070, Release 6328P03\n" if self.nos.name == "hp_comware" else ""
        return f"{head}#\n sysname {self.base_prompt}\n#\n" + "\n".join(lines) + "\n#\nreturn"

    def _save(self) -> None:
        SAVED[self.base_prompt] = list(self._cfg())
        if self.nos.name == "hp_comware":
            self.writeline(
                "Validating file. Please wait...\n"
                "Saved the current configuration to mainboard device successfully."
            )
        else:
            self.writeline("Info: Save the configuration successfully.")


class Lines(ssh_server_paramiko.TapIO):  # type: ignore[misc]
    """fakenos' TapIO (the lines between an SSH channel and a shell) without polling.

    Its readers slept 10 ms whenever no line was waiting, in two threads per session: with a
    few sessions on a busy 2-core machine a device answered a bare RETURN in over 0.25 s,
    netmiko's find_prompt then sends a second RETURN, and on Comware (netmiko reads there
    without waiting for the command echo) the extra prompt is read as the next command's
    whole output. Real devices answer in milliseconds.
    """

    def __init__(self, run_srv: threading.Event, initial_value: str = "", newline: str = "\n"):
        super().__init__(run_srv, initial_value, newline)
        self.ready = threading.Condition()

    def readline(self) -> str | None:  # type: ignore[override]
        with self.ready:
            while self.run_srv.is_set():
                if self.lines:
                    line: str = self.lines.pop(-1)
                    return line
                self.ready.wait(0.5)  # wakes on write; the timeout notices a stopped server
        return None

    def write(self, value: str) -> None:  # type: ignore[override]
        with self.ready:
            self.lines.insert(0, value)
            self.ready.notify_all()


def channel_to_shell(channel: Any, shell_stdin: Any, replied: threading.Event, run: Any) -> None:
    """fakenos' channel_to_shell_tap without its 10 ms sleep after every byte received (a
    30-character command took 0.3 s to echo; see Lines)."""
    buffer = bytearray()
    while run.is_set():
        byte: bytes = channel.read(1)
        replied.wait(10)  # one line at a time: the shell answers the previous one first
        if not channel.channel.active:
            break
        try:
            if byte in (b"\r", b"\n"):
                channel.write(b"\r\n")
                line = bytes(buffer + byte).decode("utf-8")
                buffer.clear()
                shell_stdin.write(line)
                replied.clear()
            else:
                channel.write(byte)
                if byte not in (b"\x00", b""):
                    buffer += byte
        except (OSError, EOFError):
            break
        if not byte:  # end of file: the client went away
            time.sleep(0.01)


def host_key(key_dir: Path, name: str) -> tuple[Path, str]:
    """Path of device NAME's RSA host key (made on first use) and its known_hosts key text."""
    path = key_dir / name
    if not path.exists():
        key_dir.mkdir(parents=True, exist_ok=True)
        # fakenos' paramiko server only loads RSA keys.
        paramiko.RSAKey.generate(bits=2048).write_private_key_file(str(path))
        path.chmod(0o600)
    key = paramiko.RSAKey.from_private_key_file(str(path))
    return path, f"{key.get_name()} {key.get_base64()}"


def plan(specs: list[str], base_port: int) -> list[tuple[str, str, int, str]]:
    """(name, fakenos platform, port, state) for PLATFORM[:COUNT][@STATE] specs.

    e.g. ["cisco_ios:2", "huawei_vrp@unsaved_config"]; the state defaults to healthy.
    """
    devices: list[tuple[str, str, int, str]] = []
    for spec in specs:
        kind, _, state = spec.partition("@")
        platform, _, count = kind.partition(":")
        for _ in range(int(count or 1)):
            name = f"sw{len(devices) + 1}"
            devices.append((name, platform, base_port + len(devices), state or "healthy"))
    return devices


def plant(name: str, platform: str, state: str) -> None:
    """Start a device in its planted state (device_outputs.py describes the states)."""
    STATES[name] = state
    if state == "unsaved_config":
        # Changed since the last save: in the running configuration, not in the saved one.
        CONFIGS[name] = list(UNSAVED_LINES.get(platform, []))
        SAVED[name] = []


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lab-dir", type=Path, required=True)
    ap.add_argument("--base-port", type=int, default=6001)
    ap.add_argument("--address", default="127.0.0.1")
    ap.add_argument("--stateful", action="store_true")
    ap.add_argument("platforms", nargs="+")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")

    devices, hosts = [], {}
    for name, platform, port, planted in plan(args.platforms, args.base_port):
        plant(name, platform, planted)
        key_path, key_text = host_key(args.lab_dir / "hostkeys", name)
        server = {"plugin": "ParamikoSshServer", "configuration": {"ssh_key_file": str(key_path)}}
        hosts[name] = {"port": port, "platform": platform, "server": server}
        devices.append(
            {
                "name": name,
                "platform": DEVICE_TYPE.get(platform, platform),
                "fakenos_platform": platform,
                "address": args.address,
                "port": port,
                "username": USERNAME,
                "password": PASSWORD,
                "host_key": key_text,
                "state": planted,
            }
        )
    net = FakeNOS(
        inventory={
            "default": {
                "username": USERNAME,
                "password": PASSWORD,
                "server": {
                    "plugin": "ParamikoSshServer",
                    "configuration": {"address": args.address, "timeout": 1},
                },
            },
            "hosts": hosts,
        }
    )
    if args.stateful:
        net.shell_plugins["CMDShell"] = StatefulShell
    # Faster plumbing between SSH channels and shells (see Lines).
    ssh_server_paramiko.TapIO = Lines
    ssh_server_paramiko.channel_to_shell_tap = channel_to_shell
    net.start()

    state = {"pid": os.getpid(), "spec": " ".join(args.platforms), "devices": devices}
    tmp = args.lab_dir / "devices.json.tmp"
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(args.lab_dir / "devices.json")
    logging.warning("fakenos: %d devices on %s:%d..", len(devices), args.address, args.base_port)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    # net.stop() takes ~0.6 s per device and there is nothing to save in a throwaway lab.
    (args.lab_dir / "devices.json").unlink(missing_ok=True)
    os._exit(0)


if __name__ == "__main__":
    main()
