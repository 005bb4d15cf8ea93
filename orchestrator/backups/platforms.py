"""How each network platform (netmiko device_type) shows its running and saved configuration."""

from __future__ import annotations

RUNNING = "running-config"
STARTUP = "startup-config"
CONFIG_ARTIFACTS = (RUNNING, STARTUP)

_CISCO_LIKE = {RUNNING: "show running-config", STARTUP: "show startup-config"}
_VRP_LIKE = {RUNNING: "display current-configuration", STARTUP: "display saved-configuration"}

CONFIG_COMMANDS: dict[str, dict[str, str]] = {
    "cisco_ios": _CISCO_LIKE,
    "cisco_xe": _CISCO_LIKE,
    "cisco_nxos": _CISCO_LIKE,
    "cisco_asa": _CISCO_LIKE,
    "arista_eos": _CISCO_LIKE,
    "dell_os10": _CISCO_LIKE,
    "cisco_xr": {RUNNING: "show running-config"},
    "huawei": _VRP_LIKE,
    "huawei_vrpv8": _VRP_LIKE,
    "hp_comware": _VRP_LIKE,
    "juniper_junos": {RUNNING: "show configuration | display set"},
}


def config_command(platform: str, artifact: str) -> str | None:
    """The command that prints ``artifact`` (running-config | startup-config), if known."""
    return CONFIG_COMMANDS.get(platform, {}).get(artifact)


def known_platforms() -> list[str]:
    return sorted(CONFIG_COMMANDS)
