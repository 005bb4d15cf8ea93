"""What the lab's fake devices print for the commands the inspections use, per platform.

Cisco IOS XE and Arista EOS here, Huawei VRP and H3C Comware in vrp_outputs.py; all print the
model of device_model.py. The shapes follow real devices' outputs (the ones ntc-templates
and the runbooks parse). ``render`` answers for the commands modelled, None for the rest
(fakenos' canned outputs answer those).
"""

from __future__ import annotations

from collections.abc import Callable

from device_model import Device, uptime_text
from vrp_outputs import (
    cmw_counters,
    cmw_cpu,
    cmw_interfaces,
    cmw_memory,
    cmw_version,
    vrp_cpu,
    vrp_interfaces,
    vrp_memory,
    vrp_version,
)

# --- Cisco IOS XE (Catalyst 9300) ------------------------------------------------------------


def ios_version(dev: Device) -> str:
    return f"""Cisco IOS XE Software, Version 17.09.04a
Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), \
Version 17.9.4a, RELEASE SOFTWARE (fc5)
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2023 by Cisco Systems, Inc.
Compiled Fri 20-Oct-23 10:44 by mcpre

ROM: IOS-XE ROMMON
BOOTLDR: System Bootstrap, Version 17.9.1r[FC2], RELEASE SOFTWARE (P)

{dev.name} uptime is {uptime_text(dev)}
Uptime for this control processor is {uptime_text(dev)}
System returned to ROM by Reload Command
System image file is "flash:packages.conf"
Last reload reason: Reload Command

cisco C9300-24T (X86) processor with 1338801K/6147K bytes of memory.
Processor board ID FOC2318X{dev.number:03d}
24 Gigabit Ethernet interfaces
2048K bytes of non-volatile configuration memory.
8388608K bytes of physical memory.

Configuration register is 0x102
"""


def ios_cpu(dev: Device) -> str:
    s5, m1, m5 = dev.cpu
    rows = [
        (1, 12, 125, "Chunk Manager"),
        (2, 4380, 115260, "Load Meter"),
        (95, 98812, 1204, "IOSD ipc task"),
    ]
    lines = [
        f"CPU utilization for five seconds: {s5}%/0%; one minute: {m1}%; five minutes: {m5}%",
        " PID Runtime(ms)     Invoked      uSecs   5Sec   1Min   5Min TTY Process ",
    ]
    for pid, runtime, invoked, name in rows:
        usecs = runtime * 1000 // invoked
        lines.append(
            f"{pid:4d} {runtime:11d} {invoked:11d} {usecs:10d}  0.00%  0.00%  0.00%   0 {name}"
        )
    return "\n".join(lines) + "\n"


def ios_memory(dev: Device) -> str:
    total = 1338801848
    used = total * dev.memory_percent // 100
    return f"""Processor Pool Total: {total} Used: {used:10d} Free: {total - used:10d}
lsmpi_io Pool Total:    6295128 Used:    6294296 Free:        832

 PID TTY  Allocated      Freed    Holding    Getbufs    Retbufs Process
   0   0  678471104  385020800  260335224          0          0 *Init*
 511   0   12585600     332840   11932632          0          0 IOSD ipc task
"""


def ios_interfaces(dev: Device) -> str:
    blocks = []
    for i, p in enumerate(dev.ports):
        link = {"up": "up", "down": "down", "admin down": "administratively down"}[p.state]
        proto = (
            "up (connected)"
            if p.state == "up"
            else ("down (notconnect)" if p.state == "down" else "down (disabled)")
        )
        mac = f"70b3.1711.{dev.number:02x}{i + 1:02x}"
        desc = f"  Description: {p.description}\n" if p.description else ""
        blocks.append(f"""{p.name} is {link}, line protocol is {proto}
  Hardware is Gigabit Ethernet, address is {mac} (bia {mac})
{desc}  MTU 1500 bytes, BW 1000000 Kbit/sec, DLY 10 usec,
     reliability 255/255, txload 1/255, rxload 1/255
  Encapsulation ARPA, loopback not set
  Keepalive set (10 sec)
  Full-duplex, 1000Mb/s, media type is 10/100/1000BaseTX
  input flow-control is off, output flow-control is unsupported
  ARP type: ARPA, ARP Timeout 04:00:00
  Last input 00:00:01, output 00:00:00, output hang never
  Last clearing of "show interface" counters never
  Input queue: 0/2000/0/0 (size/max/drops/flushes); Total output drops: 0
  Queueing strategy: fifo
  Output queue: 0/40 (size/max)
  5 minute input rate 2000 bits/sec, 3 packets/sec
  5 minute output rate 1000 bits/sec, 1 packets/sec
     1234567 packets input, 123456789 bytes, 0 no buffer
     Received 12345 broadcasts (6789 multicasts)
     0 runts, 0 giants, 0 throttles
     {p.in_errors} input errors, {p.in_errors} CRC, 0 frame, 0 overrun, 0 ignored
     0 watchdog, 6789 multicast, 0 pause input
     0 input packets with dribble condition detected
     7654321 packets output, 987654321 bytes, 0 underruns
     {p.out_errors} output errors, 0 collisions, 1 interface resets
     0 unknown protocol drops
     0 babbles, 0 late collision, 0 deferred
     0 lost carrier, 0 no carrier, 0 pause output
     0 output buffer failures, 0 output buffers swapped out""")
    return "\n".join(blocks) + "\n"


# --- Arista EOS (cEOS-lab, as fakenos' own Arista) -----------------------------------------


def eos_version(dev: Device) -> str:
    total = 8099732
    return f"""Arista cEOSLab
Hardware version:
Serial number: JPE2025{dev.number:04d}
Hardware MAC address: 2899.3a4c.5e{dev.number:02x}
System MAC address: 2899.3a4c.5e{dev.number:02x}

Software image version: 4.28.3M-28837868.4283M (engineering build)
Architecture: x86_64
Internal build version: 4.28.3M-28837868.4283M
Internal build ID: 9e2b6f5c-8a4d-4a4e-9c3f-2f1b8f0e6a11
Image format version: 1.0
Image optimization: None

cEOS tools version: (unknown)
Kernel version: 5.10.0-27-amd64

Uptime: {uptime_text(dev, last=" and ")}
Total memory: {total} kB
Free memory: {total * (100 - dev.memory_percent) // 100} kB
"""


def eos_top(dev: Device) -> str:
    total = 8099732
    used = total * dev.memory_percent // 100
    free = (total - used) // 3
    weeks, days, hours, minutes = dev.uptime
    idle = 100 - dev.cpu[0] - 0.4
    return f"""top - 02:40:12 up {weeks * 7 + days} days, {hours:2d}:{minutes:02d},  0 users,  \
load average: 0.35, 0.41, 0.44
Tasks: 312 total,   1 running, 311 sleeping,   0 stopped,   0 zombie
%Cpu(s):  {dev.cpu[0] - 1:.1f} us,  1.0 sy,  0.0 ni, {idle:.1f} id,  0.0 wa,  0.2 hi,  \
0.2 si,  0.0 st
KiB Mem :  {total} total,  {free} free,  {used} used,  {total - used - free} buff/cache
KiB Swap:        0 total,        0 free,        0 used.  {total - used} avail Mem

  PID USER      PR  NI    VIRT    RES    SHR S  %CPU %MEM     TIME+ COMMAND
 2134 root      20   0  781228 262912 149216 S   5.9  3.2 312:01.44 Sysdb
 2201 root      20   0  612840 198412 120448 S   2.0  2.4  98:12.03 Rib
"""


def eos_interfaces(dev: Device) -> str:
    blocks = []
    for i, p in enumerate(dev.ports):
        link = {"up": "up", "down": "down", "admin down": "administratively down"}[p.state]
        proto = {
            "up": "up (connected)",
            "down": "down (notconnect)",
            "admin down": "down (disabled)",
        }
        mac = f"2899.3a4c.{dev.number:02x}{i + 1:02x}"
        desc = f"  Description: {p.description}\n" if p.description else ""
        blocks.append(f"""{p.name} is {link}, line protocol is {proto[p.state]}
  Hardware is Ethernet, address is {mac} (bia {mac})
{desc}  Ethernet MTU 9214 bytes , BW 10000000 kbit
  Full-duplex, 10Gb/s, auto negotiation: off, uni-link: n/a
  Loopback Mode : None
  2 link status changes since last clear
  Last clearing of "show interface" counters never
  5 minutes input rate 3.41 kbps (0.0% with framing overhead), 4 packets/sec
  5 minutes output rate 1.02 kbps (0.0% with framing overhead), 1 packets/sec
     1234567 packets input, 123456789 bytes
     Received 12 broadcasts, 3456 multicast
     0 runts, 0 giants
     {p.in_errors} input errors, {p.in_errors} CRC, 0 alignment, 0 symbol, 0 input discards
     0 PAUSE input
     7654321 packets output, 987654321 bytes
     Sent 5 broadcasts, 6789 multicast
     {p.out_errors} output errors, 0 collisions
     0 late collision, 0 deferred, 0 output discards
     0 PAUSE output""")
    return "\n".join(blocks) + "\n"


def eos_errors(dev: Device) -> str:
    lines = ["Port            FCS    Align   Symbol       Rx    Runts   Giants       Tx"]
    for p in dev.ports:
        e = p.in_errors
        lines.append(f"{p.short:<12}{e:>7}{0:>9}{0:>9}{e:>9}{0:>9}{0:>9}{p.out_errors:>9}")
    return "\n".join(lines) + "\n"


Render = Callable[[Device], str]
OUTPUTS: dict[str, dict[str, Render]] = {
    "cisco_ios": {
        "show version": ios_version,
        "show processes cpu": ios_cpu,
        "show processes memory sorted": ios_memory,
        "show interfaces": ios_interfaces,
    },
    "arista_eos": {
        "show version": eos_version,
        "show processes top once": eos_top,
        "show interfaces": eos_interfaces,
        "show interfaces counters errors": eos_errors,
    },
    "huawei_vrp": {
        "display version": vrp_version,
        "display cpu-usage": vrp_cpu,
        "display memory-usage": vrp_memory,
        "display interface brief": vrp_interfaces,
    },
    "hp_comware": {
        "display version": cmw_version,
        "display cpu-usage": cmw_cpu,
        "display memory": cmw_memory,
        "display interface brief": cmw_interfaces,
        "display counters inbound interface": lambda d: cmw_counters(d, inbound=True),
        "display counters outbound interface": lambda d: cmw_counters(d, inbound=False),
    },
}


def render(dev: Device, command: str) -> str | None:
    """The device's output for ``command``, or None when this module does not model it."""
    make = OUTPUTS.get(dev.platform, {}).get(command)
    return make(dev) if make else None
