"""The model behind the lab's fake devices: one small device per name, in a planted state.

fakenos' canned outputs are scraps of different real devices (an Arista that booted 8 minutes
ago, a Comware whose ports are all down...), so the commands the inspections use get coherent
outputs from this model instead (device_outputs.py, vrp_outputs.py print it per platform).

A device's state plants problems (lab.json ``devices[].state``):
  healthy         every inspection item normal
  unsaved_config  running configuration differs from the saved one (UNSAVED_LINES; devices.py)
  port_problems   an enabled, described uplink is down; a port has 1532 input errors
"""

from __future__ import annotations

from dataclasses import dataclass

# An address of the documentation range (RFC 5737): the fake devices never reach it.
NTP_SERVER, LOG_SERVER = "192.0.2.123", "192.0.2.20"


@dataclass(frozen=True)
class Port:
    name: str
    short: str
    description: str
    state: str  # "up" | "down" (enabled, no link) | "admin down"
    in_errors: int = 0
    out_errors: int = 0


@dataclass(frozen=True)
class Device:
    name: str
    platform: str  # fakenos platform
    state: str = "healthy"

    @property
    def number(self) -> int:
        return int("".join(c for c in self.name if c.isdigit()) or 1)

    @property
    def uptime(self) -> tuple[int, int, int, int]:
        """(weeks, days, hours, minutes): weeks, never "just rebooted"."""
        n = self.number
        return 2 + n % 5, n % 7, (3 * n) % 24, (17 * n) % 60

    @property
    def cpu(self) -> tuple[int, int, int]:
        """CPU % over 5 s, 1 min, 5 min."""
        base = 4 + self.number % 5
        return base + 2, base + 1, base

    @property
    def memory_percent(self) -> int:
        return 31 + (7 * self.number) % 20

    @property
    def ports(self) -> list[Port]:
        names = PORT_NAMES[self.platform]
        roles = ["uplink-core-a", "uplink-core-b", "server-rack-a", "ap-floor2", "", ""]
        ports = []
        for i, (name, short) in enumerate(names):
            state = "up" if roles[i] else "admin down"  # hardening: unused ports are shut
            errors = 0
            if self.state == "port_problems" and i == 1:
                state = "down"
            if self.state == "port_problems" and i == 2:
                errors = 1532
            ports.append(Port(name, short, roles[i], state, in_errors=errors))
        return ports


def _names(long: str, short: str, fmt: str) -> list[tuple[str, str]]:
    return [(long + fmt.format(i), short + fmt.format(i)) for i in range(1, 7)]


PORT_NAMES = {
    "cisco_ios": _names("GigabitEthernet", "Gi", "1/0/{}"),
    "arista_eos": _names("Ethernet", "Et", "{}"),
    "huawei_vrp": _names("GigabitEthernet", "GE", "0/0/{}"),
    "hp_comware": _names("GigabitEthernet", "GE", "1/0/{}"),
}


def uptime_text(dev: Device, last: str = ", ") -> str:
    weeks, days, hours, minutes = dev.uptime
    w, d = "week" if weeks == 1 else "weeks", "day" if days == 1 else "days"
    h, m = "hour" if hours == 1 else "hours", "minute" if minutes == 1 else "minutes"
    return f"{weeks} {w}, {days} {d}, {hours} {h}{last}{minutes} {m}"


# Configuration lines every device starts with (VRP/Comware print the whole configuration
# themselves; the Cisco-likes' fakenos configs already have NTP and syslog servers).
BASE_CONFIG = {
    "huawei_vrp": [
        f" info-center loghost {LOG_SERVER}",
        f" ntp-service unicast-server {NTP_SERVER}",
    ],
    "hp_comware": [
        f" info-center loghost {LOG_SERVER}",
        " ntp-service enable",
        f" ntp-service unicast-server {NTP_SERVER}",
    ],
}
# What an unsaved_config device has in its running configuration but not in the saved one.
UNSAVED_LINES = {
    "cisco_ios": ["ip access-list standard TEMP-VENDOR", " permit 198.51.100.0 0.0.0.255"],
    "arista_eos": ["ip access-list standard TEMP-VENDOR", "   10 permit 198.51.100.0/24"],
    "huawei_vrp": ["acl number 3001", " rule 5 permit ip source 198.51.100.0 0.0.0.255"],
    "hp_comware": ["acl basic 2001", " rule 5 permit source 198.51.100.0 0.0.0.255"],
}
