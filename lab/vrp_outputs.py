"""What the lab's fake Huawei VRP and H3C Comware devices print (see device_model.py).

The shapes follow real devices' outputs (the ones ntc-templates and the runbooks parse).
"""

from __future__ import annotations

from device_model import Device, uptime_text

# --- Huawei VRP (S5720) ----------------------------------------------------------------------


def vrp_version(dev: Device) -> str:
    up = uptime_text(dev)
    return f"""Huawei Versatile Routing Platform Software
VRP (R) software, Version 5.170 (S5720 V200R011C10SPC600)
Copyright (C) 2000-2018 HUAWEI TECH Co., Ltd.
HUAWEI S5720-28X-SI-AC Routing Switch uptime is {up}

ES5D2S28C000 0(Master) : uptime is {up}
DDR             Memory Size : 512   M bytes
FLASH Total     Memory Size : 512   M bytes
FLASH Available Memory Size : 297   M bytes
Pcb           Version   : VER.B
BootROM       Version   : 020a.0001
BootLoad      Version   : 020a.0001
CPLD          Version   : 0106
Software      Version   : VRP (R) Software, Version 5.170 (V200R011C10SPC600)
"""


def vrp_cpu(dev: Device) -> str:
    s5, m1, m5 = dev.cpu
    return f""" CPU Usage Stat. Cycle: 60 (Second)
 CPU Usage            : {s5}% Max: 41%
 CPU Usage Stat. Time : 2026-01-01  00:00:00
 CPU utilization for five seconds: {s5}%: one minute: {m1}%: five minutes: {m5}%
 Max CPU Usage Stat. Time : 2025-12-20 09:12:33.

 TaskName        CPU  Runtime(CPU Tick High/Tick Low)  Task Explanation
 VIDL           {100 - s5}%         0/d36f9a4b       DOPRA IDLE
 OS              {s5}%         0/ 9e0f5a3        Operation System
"""


def vrp_memory(dev: Device) -> str:
    total = 1389432832
    return f""" Memory utilization statistics at 2026-01-01 00:00:00+08:00
 System Total Memory Is: {total} bytes
 Total Memory Used Is: {total * dev.memory_percent // 100} bytes
 Memory Using Percentage Is: {dev.memory_percent}%
"""


def vrp_interfaces(dev: Device) -> str:
    lines = [
        "PHY: Physical",
        "*down: administratively down",
        "^down: standby",
        "(l): loopback",
        "(s): spoofing",
        "(b): BFD down",
        "(e): ETHOAM down",
        "(dl): DLDP down",
        "(d): Dampening Suppressed",
        "InUti/OutUti: input utility/output utility",
        "Interface                   PHY   Protocol InUti OutUti   inErrors  outErrors",
    ]
    for p in dev.ports:
        phy = {"up": "up", "down": "down", "admin down": "*down"}[p.state]
        proto = "up" if p.state == "up" else "down"
        uti = "0.01%" if p.state == "up" else "0%"
        lines.append(
            f"{p.name:<28}{phy:<6}{proto:<9}{uti:>5}{uti:>7}{p.in_errors:>11}{p.out_errors:>11}"
        )
    return "\n".join(lines) + "\n"


# --- H3C Comware 7 (S5130S-HI) ---------------------------------------------------------------


def cmw_version(dev: Device) -> str:
    return f"""H3C Comware Software, Version 7.1.070, Release 6328P03
Copyright (c) 2004-2021 New H3C Technologies Co., Ltd. All rights reserved.
H3C S5130S-28S-HI uptime is {uptime_text(dev)}
Last reboot reason : User reboot

Boot image: flash:/s5130s_hi-cmw710-boot-r6328p03.bin
Boot image version: 7.1.070, Release 6328P03
  Compiled Mar 02 2021 11:00:00
System image: flash:/s5130s_hi-cmw710-system-r6328p03.bin
System image version: 7.1.070, Release 6328P03
  Compiled Mar 02 2021 11:00:00
"""


def cmw_cpu(dev: Device) -> str:
    s5, m1, m5 = dev.cpu
    return f"""Slot 1 CPU 0 CPU usage:
      {s5:2d}% in last 5 seconds
      {m1:2d}% in last 1 minute
      {m5:2d}% in last 5 minutes
"""


def cmw_memory(dev: Device) -> str:
    total = 1001792
    used = total * dev.memory_percent // 100
    ratio = (total - used) * 100 / total
    return f"""Memory statistics are measured in KB:
Slot 1:
             Total      Used      Free    Shared   Buffers    Cached   FreeRatio
Mem:    {total:10d}{used:10d}{total - used:10d}         0      2448     75496{ratio:11.1f}%
-/+ Buffers/Cache:    {used - 77944:10d}{total - used + 77944:10d}
Swap:            0         0         0
"""


def cmw_interfaces(dev: Device) -> str:
    lines = [
        "Brief information on interfaces in route mode:",
        "Link: ADM - administratively down; Stby - standby",
        "Protocol: (s) - spoofing",
        "Interface            Link Protocol Primary IP      Description",
        "InLoop0              UP   UP(s)    --",
        "NULL0                UP   UP(s)    --",
        "Vlan1                UP   UP       192.0.2.1",
        "",
        "Brief information on interfaces in bridge mode:",
        "Link: ADM - administratively down; Stby - standby",
        "Speed: (a) - auto",
        "Duplex: (a)/A - auto; H - half; F - full",
        "Type: A - access; T - trunk; H - hybrid",
        "Interface            Link Speed     Duplex Type PVID Description",
    ]
    for p in dev.ports:
        link = {"up": "UP", "down": "DOWN", "admin down": "ADM"}[p.state]
        speed, duplex = ("1G(a)", "F(a)") if p.state == "up" else ("auto", "A")
        lines.append(
            f"{p.short:<21}{link:<5}{speed:<10}{duplex:<7}A    1    {p.description}".rstrip()
        )
    return "\n".join(lines) + "\n"


def cmw_counters(dev: Device, inbound: bool) -> str:
    lines = ["Interface         Total (pkts)   Broadcast (pkts)   Multicast (pkts)  Err (pkts)"]
    for p in dev.ports:
        total = 573422 if p.state == "up" else 0
        errors = p.in_errors if inbound else p.out_errors
        lines.append(f"{p.short:<18}{total:>12}{total // 200:>19}{total // 60:>19}{errors:>12}")
    lines += [
        "",
        ' Overflow: More than 14 digits (7 digits for column "Err").',
        "       --: Not supported.",
    ]
    return "\n".join(lines) + "\n"
