"""Ansible transport: one ansible-runner run per action, limited to one linux host.

An action is ``{"module": name, "args": {...} | "free form"}`` (run as a generated
one-task play) or ``{"playbook": path}`` (relative paths resolve against
``playbook_dir``). Each run gets a private data dir under ``work_dir`` that is
removed afterwards (its artifacts would hold the inventory, secrets included),
an inventory generated from our ``Host`` (its vars and groups, so a playbook's
``hosts:`` pattern matches), and an environment that keeps ansible away from the
operator's files: a generated empty ansible.cfg, ANSIBLE_HOME / temp / control
path dirs inside the data dir, no ControlPersist master left behind, host key
checking on against *our* known_hosts (and nothing written to ``~/.ssh``).

Scope: linux hosts over ssh. Network devices through ansible (network_cli) are
not supported yet; use the netmiko transport for them. A timed-out action kills
the local ansible processes; a remote command already started may run on until
it ends (ansible has no remote kill; use ``async`` in playbooks for long tasks).
The ansible process start-up (a few seconds) counts against the timeout.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shlex
import shutil
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ansible_runner

from orchestrator.clock import Clock, SystemClock
from orchestrator.errors import CommandTimeout, ConnectionLost, TransportError
from orchestrator.inventory.model import Host, HostKind
from orchestrator.transports.ansible_events import (
    describe_action,
    result_from_events,
    task_outcomes,
    unreachable_error,
)
from orchestrator.transports.base import Action, CommandResult, NewHostKeyCallback
from orchestrator.transports.hostkeys import HostKeyVerifier
from orchestrator.transports.ssh import fetch_host_key

log = logging.getLogger(__name__)

# Groups every ansible inventory has implicitly; declaring them as children breaks it.
_IMPLICIT_GROUPS = frozenset({"all", "ungrouped"})


def ssh_common_args(known_hosts: Path) -> str:
    """OpenSSH options that make ansible check host keys against ``known_hosts`` only.

    They go *before* any inventory ``ansible_ssh_common_args``: for ``-o`` options
    OpenSSH keeps the first value it sees, so an inventory cannot switch checking off.
    """
    return " ".join(
        [
            "-F /dev/null",  # no ~/.ssh/config
            f"-o UserKnownHostsFile={shlex.quote(str(known_hosts))}",
            "-o GlobalKnownHostsFile=/dev/null",
            "-o StrictHostKeyChecking=yes",
            "-o IdentitiesOnly=yes",
        ]
    )


def inventory_for(
    host: Host,
    *,
    known_hosts: Path,
    python_interpreter: str,
    default_user: str | None = None,
    default_key_file: Path | None = None,
) -> dict[str, Any]:
    """An inventory holding only ``host``: its resolved vars and its groups."""
    hostvars: dict[str, Any] = dict(host.vars)
    hostvars["ansible_host"] = host.address
    hostvars.setdefault("ansible_python_interpreter", python_interpreter)
    if host.user is None and default_user is not None:
        hostvars["ansible_user"] = default_user
    if host.key_file is None and default_key_file is not None:
        hostvars["ansible_ssh_private_key_file"] = str(default_key_file)
    own = ssh_common_args(known_hosts)
    theirs = hostvars.get("ansible_ssh_common_args")
    hostvars["ansible_ssh_common_args"] = f"{own} {theirs}" if theirs else own
    children = {
        group: {"hosts": {host.name: None}}
        for group in host.groups
        if group not in _IMPLICIT_GROUPS
    }
    return {"all": {"hosts": {host.name: hostvars}, "children": children}}


def module_play(module: str, args: Mapping[str, Any] | str | None) -> list[dict[str, Any]]:
    """A one-task play running ``module`` with ``args`` (a dict, or a free-form string)."""
    task: dict[str, Any] = {"name": module, module: args if args is not None else {}}
    return [{"name": module, "hosts": "all", "gather_facts": False, "tasks": [task]}]


def runner_env(data_dir: Path, connect_timeout: float, known_hosts: Path) -> dict[str, str]:
    """Environment for the ansible process: isolated from the operator's ansible and ssh files.

    ansible-runner sets ANSIBLE_HOST_KEY_CHECKING=False unless told otherwise, and
    ansible then puts ``-o StrictHostKeyChecking=no`` *before* the inventory's
    ssh args (which OpenSSH would then ignore, and write every key to the file):
    so checking is switched on here and also pinned in ANSIBLE_SSH_ARGS, which
    comes first on ansible's ssh command line.
    """
    bin_dir = str(Path(sys.executable).parent)  # ansible-runner execs ansible-playbook by name
    return {
        "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", os.defpath)]),
        "ANSIBLE_CONFIG": str(data_dir / "ansible.cfg"),
        "ANSIBLE_HOME": str(data_dir / "home"),
        "ANSIBLE_LOCAL_TEMP": str(data_dir / "tmp"),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(data_dir / "cp"),
        "ANSIBLE_PERSISTENT_CONTROL_PATH_DIR": str(data_dir / "pc"),
        "ANSIBLE_SSH_ARGS": "-o ControlMaster=no -o ControlPath=none "
        + ssh_common_args(known_hosts),
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_TIMEOUT": str(max(1, math.ceil(connect_timeout))),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
    }


class AnsibleConnection:
    """Nothing stays open between actions: each ``run`` is one ansible-runner run."""

    def __init__(self, host: Host, connector: AnsibleConnector, connect_timeout: float) -> None:
        self.host = host
        self._connector = connector
        self._connect_timeout = connect_timeout
        self._cancel = threading.Event()
        self._key_checked = False
        self._where = f"{host.name} ({host.address}:{host.port})"

    def _check_host_key(self) -> None:
        # OpenSSH would only say "Host key verification failed"; ask the host for its key
        # first so the refusal names the fingerprint and --trust-new-host-keys can apply.
        if self._key_checked or self.host.vars.get("ansible_connection", "ssh") != "ssh":
            return
        verifier = self._connector.verifier
        if not verifier.is_known_host(self.host.address, self.host.port):
            keytype, key = fetch_host_key(self.host.address, self.host.port, self._connect_timeout)
            verifier.verify(self.host.name, self.host.address, self.host.port, keytype, key)
        self._key_checked = True

    def run(self, action: Action, *, timeout: float) -> CommandResult:
        if isinstance(action, str) or not ({"module", "playbook"} & set(action)):
            raise TypeError('ansible actions are {"module": ..., "args": ...} or {"playbook": ...}')
        if self._cancel.is_set():
            raise ConnectionLost(f"{self._where}: the connection is closed")
        self._check_host_key()
        connector = self._connector
        connector.work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        data_dir = Path(tempfile.mkdtemp(prefix="ansible-", dir=connector.work_dir))
        try:
            return self._run_in(data_dir, action, timeout)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)

    def _prepare(self, data_dir: Path, action: Mapping[str, Any]) -> dict[str, Any]:
        """Write ansible.cfg, the inventory and (for a module) the play; runner kwargs."""
        connector = self._connector
        (data_dir / "ansible.cfg").write_text("[defaults]\n")
        inventory = data_dir / "inventory.json"
        inventory.write_text(json.dumps(connector.inventory(self.host), default=str))
        kwargs: dict[str, Any] = {"inventory": str(inventory)}
        if "playbook" in action:
            playbook = (connector.playbook_dir / str(action["playbook"])).resolve()
            kwargs.update(playbook=str(playbook), project_dir=str(playbook.parent))
        else:
            play = module_play(str(action["module"]), action.get("args"))
            (data_dir / "project").mkdir()
            (data_dir / "project" / "action.yml").write_text(json.dumps(play))
            kwargs.update(playbook="action.yml")
        return kwargs

    def _run_in(self, data_dir: Path, action: Mapping[str, Any], timeout: float) -> CommandResult:
        connector = self._connector
        kwargs = self._prepare(data_dir, action)
        events: list[dict[str, Any]] = []
        clock = connector.clock
        start = clock.monotonic()
        runner = ansible_runner.run(
            private_data_dir=str(data_dir),
            limit=self.host.name,
            envvars=runner_env(data_dir, self._connect_timeout, connector.known_hosts.resolve()),
            quiet=True,
            timeout=max(1, math.ceil(timeout)),
            settings={"pexpect_timeout": 0.2, "suppress_ansible_output": True},
            suppress_env_files=True,
            event_handler=_collector(events),
            cancel_callback=self._cancel.is_set,  # also stops ansible-runner's signal handlers
            **kwargs,
        )
        duration = clock.monotonic() - start
        command = describe_action(action)
        if runner.status == "timeout":
            raise CommandTimeout(f"{self._where}: ansible did not finish within {timeout:g}s")
        if runner.status == "canceled":
            raise ConnectionLost(f"{self._where}: ansible run cancelled (connection closed)")
        error = unreachable_error(events, self.host.name, self._where, connector.verifier.path)
        if error is not None:
            raise error
        fallback = "" if task_outcomes(events, self.host.name) else _ansible_output(events, runner)
        return result_from_events(
            command,
            events,
            self.host.name,
            runner_rc=int(runner.rc or 0),
            duration=duration,
            single_task="module" in action,
            fallback_stdout=fallback,
            max_output_bytes=connector.max_output_bytes,
        )

    def close(self) -> None:
        self._cancel.set()

    def __enter__(self) -> AnsibleConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _collector(events: list[dict[str, Any]]) -> Any:
    def collect(event: dict[str, Any]) -> bool:
        events.append(event)
        return True  # keep ansible-runner's own handling (it is all in our temp dir)

    return collect


def _ansible_output(events: list[dict[str, Any]], runner: Any) -> str:
    """ansible's own output, for runs that never reached a task (a syntax error, say)."""
    text = "\n".join(str(e["stdout"]) for e in events if e.get("stdout"))
    if not text:
        try:
            text = str(runner.stdout.read())
        except (OSError, AttributeError, ValueError):
            text = ""
    return text.replace("\r\n", "\n").strip() + "\n" if text.strip() else ""


class AnsibleConnector:
    name = "ansible"

    def __init__(
        self,
        work_dir: Path,
        known_hosts: Path,
        *,
        trust_new_host_keys: bool = False,
        on_new_host_key: NewHostKeyCallback | None = None,
        playbook_dir: Path | None = None,
        default_user: str | None = None,
        default_key_file: Path | None = None,
        python_interpreter: str = "/usr/bin/python3",
        max_output_bytes: int = 16 * 1024 * 1024,
        clock: Clock | None = None,
    ) -> None:
        self.work_dir = work_dir
        self.known_hosts = known_hosts
        self.verifier = HostKeyVerifier(
            known_hosts, trust_new_host_keys=trust_new_host_keys, on_new_host_key=on_new_host_key
        )
        self.playbook_dir = playbook_dir or Path.cwd()
        self.default_user = default_user
        self.default_key_file = default_key_file
        self.python_interpreter = python_interpreter
        self.max_output_bytes = max_output_bytes
        self.clock = clock or SystemClock()

    def inventory(self, host: Host) -> dict[str, Any]:
        return inventory_for(
            host,
            known_hosts=self.known_hosts.resolve(),
            python_interpreter=self.python_interpreter,
            default_user=self.default_user,
            default_key_file=self.default_key_file,
        )

    def connect(self, host: Host, *, timeout: float) -> AnsibleConnection:
        """Lazy: nothing is contacted until the first ``run``."""
        if host.kind is not HostKind.LINUX:
            raise TransportError(f"{host.name}: the ansible transport supports linux hosts only")
        return AnsibleConnection(host, self, timeout)
