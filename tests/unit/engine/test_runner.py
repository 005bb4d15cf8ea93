"""Engine logic with scripted in-memory transports (pure logic; the lab tests cover real peers)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from orchestrator.changes.gate import GateDecision, GateRequest
from orchestrator.clock import ManualClock
from orchestrator.engine.events import RunListener
from orchestrator.engine.plan import RunPlan
from orchestrator.engine.results import HostResult, RunResult, RunStatus, Status, StepResult
from orchestrator.engine.runner import EngineConfig, RunRequest, execute_run, plan_run
from orchestrator.errors import (
    ChangeGateError,
    CommandTimeout,
    ConfigError,
    ConnectionLost,
    HostUnreachable,
    RunbookError,
)
from orchestrator.inventory.model import Group, Host, Inventory
from orchestrator.runbook.model import (
    ChangePolicy,
    Check,
    Comparison,
    Grade,
    Runbook,
    RunbookKind,
    Step,
    StepKind,
    Threshold,
)
from orchestrator.transports.base import Action, CommandResult

Script = Callable[[Host, str], CommandResult | Exception]


@dataclass
class FakeConnection:
    host: Host
    script: Script
    log: list[str]
    closed: int = 0

    def run(self, action: Action, *, timeout: float) -> CommandResult:
        command = action if isinstance(action, str) else str(action)
        self.log.append(f"{self.host.name}:{command}")
        outcome = self.script(self.host, command)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def close(self) -> None:
        self.closed += 1


@dataclass
class FakeConnector:
    script: Script
    name: str = "fake"
    unreachable: set[str] = field(default_factory=set)
    connects: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    connections: list[FakeConnection] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def connect(self, host: Host, *, timeout: float) -> FakeConnection:
        with self.lock:
            self.connects.append(host.name)
        if host.name in self.unreachable:
            raise HostUnreachable(f"{host.address}:22: connection refused")
        conn = FakeConnection(host, self.script, self.log)
        with self.lock:
            self.connections.append(conn)
        return conn


class Recorder(RunListener):
    def __init__(self) -> None:
        self.events: list[str] = []
        self.lock = threading.Lock()

    def _add(self, event: str) -> None:
        with self.lock:
            self.events.append(event)

    def run_started(self, plan: RunPlan) -> None:
        self._add("run_started")

    def host_started(self, plan: RunPlan, host: Host) -> None:
        self._add(f"host_started:{host.name}")

    def step_finished(self, plan: RunPlan, host: Host, result: StepResult) -> None:
        self._add(f"step:{host.name}:{result.index}:{result.status.value}")

    def host_finished(self, plan: RunPlan, result: HostResult) -> None:
        self._add(f"host_finished:{result.host}:{result.status.value}")

    def run_finished(self, plan: RunPlan, result: RunResult) -> None:
        self._add(f"run_finished:{result.status.value}")


def ok(stdout: str = "", rc: int = 0) -> CommandResult:
    return CommandResult(command="x", stdout=stdout, exit_code=rc)


def make_inventory(*names: str, **extra_vars: Any) -> Inventory:
    hosts = {
        n: Host(n, {"ansible_host": f"10.0.0.{i}", "kind": "linux", **extra_vars}, ("all", "linux"))
        for i, n in enumerate(names, 1)
    }
    groups = {"all": Group("all", children=("linux",)), "linux": Group("linux", tuple(names))}
    return Inventory(hosts, groups)


def step(name: str, command: str, **kw: Any) -> Step:
    return Step(name=name, kind=StepKind.COMMAND, action=command, **kw)


def book(*steps: Step, mutates: bool = False, **kw: Any) -> Runbook:
    return Runbook(
        name="t",
        kind=RunbookKind.CUSTOM if mutates else RunbookKind.INSPECTION,
        change=ChangePolicy.STANDARD,
        targets="linux",
        steps=steps,
        mutates=mutates,
        **kw,
    )


class AllowAll:
    def check(self, request: GateRequest) -> GateDecision:
        return GateDecision(True, "test")


class ReadOnlyOnly:
    """Refuses runbooks that change targets (the real gate is tested in tests/unit/changes)."""

    def check(self, request: GateRequest) -> GateDecision:
        if request.runbook.mutates:
            return GateDecision(False, "runbook changes its targets and has no change record")
        return GateDecision(True, "read-only")


def run(
    runbook: Runbook,
    inventory: Inventory,
    connector: FakeConnector,
    listener: RunListener | None = None,
    stop: threading.Event | None = None,
    limit: str | None = None,
    gate: Any = None,
) -> RunResult:
    gate = gate or AllowAll()
    clock = ManualClock()
    config = EngineConfig(default_forks=4, connect_timeout=1, step_timeout=5)
    plan = plan_run(RunRequest(runbook, limit=limit), inventory, gate, clock, config)
    connectors = dict.fromkeys(StepKind, connector)
    return execute_run(plan, connectors, listener or RunListener(), gate, clock, config, stop)


def test_one_connection_per_host_reused_for_every_step() -> None:
    conn = FakeConnector(lambda h, c: ok("1"))
    result = run(
        book(step("a", "echo a"), step("b", "echo b"), step("c", "echo c")),
        make_inventory("h1", "h2", "h3"),
        conn,
    )
    assert result.status is RunStatus.SUCCEEDED
    assert sorted(conn.connects) == ["h1", "h2", "h3"]
    assert all(c.closed == 1 for c in conn.connections)
    assert len(conn.log) == 9


def test_unreachable_host_is_data_and_others_finish() -> None:
    conn = FakeConnector(lambda h, c: ok("1"), unreachable={"h2"})
    recorder = Recorder()
    result = run(
        book(step("a", "echo a"), step("b", "echo b")),
        make_inventory("h1", "h2", "h3"),
        conn,
        recorder,
    )
    statuses = {h.host: h.status for h in result.hosts}
    assert statuses == {"h1": Status.OK, "h2": Status.UNREACHABLE, "h3": Status.OK}
    assert result.status is RunStatus.FAILED
    assert result.failed_hosts == ("h2",)
    h2 = next(h for h in result.hosts if h.host == "h2")
    assert [s.status for s in h2.steps] == [Status.UNREACHABLE, Status.SKIPPED]
    assert "connection refused" in h2.error
    assert recorder.events[0] == "run_started"
    assert recorder.events[-1] == "run_finished:failed"


def test_timeout_and_failure_in_read_only_runbook_continue_with_next_step() -> None:
    def script(host: Host, command: str) -> CommandResult | Exception:
        if "slow" in command:
            return CommandTimeout("timed out after 5s")
        if "bad" in command:
            return ok("", rc=3)
        return ok("fine")

    result = run(
        book(step("slow", "slow"), step("bad", "bad"), step("good", "good")),
        make_inventory("h1"),
        FakeConnector(script),
    )
    host = result.hosts[0]
    assert [s.status for s in host.steps] == [Status.TIMEOUT, Status.FAILED, Status.OK]
    assert host.status is Status.TIMEOUT
    assert "exit code 3" in host.steps[1].error


def test_mutating_runbook_stops_host_at_first_failure_unless_ignored() -> None:
    conn = FakeConnector(lambda h, c: ok("", rc=1) if "bad" in c else ok("ok"))
    result = run(
        book(
            step("ign", "bad-1", ignore_errors=True),
            step("bad", "bad-2"),
            step("after", "after"),
            mutates=True,
        ),
        make_inventory("h1"),
        conn,
    )
    steps = result.hosts[0].steps
    assert [s.status for s in steps] == [Status.FAILED, Status.FAILED, Status.SKIPPED]
    assert steps[0].ignored
    assert not steps[1].ignored
    assert "stops here" in steps[2].error
    assert result.hosts[0].status is Status.FAILED
    assert "h1:after" not in conn.log


def test_ignored_failure_alone_does_not_fail_the_host() -> None:
    conn = FakeConnector(lambda h, c: ok("", rc=1) if "bad" in c else ok("ok"))
    result = run(
        book(step("ign", "bad", ignore_errors=True), step("ok", "fine")), make_inventory("h1"), conn
    )
    assert result.hosts[0].status is Status.OK
    assert result.status is RunStatus.SUCCEEDED


def test_connection_lost_stops_the_host() -> None:
    conn = FakeConnector(lambda h, c: ConnectionLost("socket closed") if "drop" in c else ok())
    result = run(book(step("drop", "drop"), step("next", "next")), make_inventory("h1"), conn)
    steps = result.hosts[0].steps
    assert steps[0].status is Status.FAILED
    assert "connection lost" in steps[0].error
    assert steps[1].status is Status.SKIPPED
    assert "h1:next" not in conn.log


def test_retries_until_success_and_counts_attempts() -> None:
    calls = {"n": 0}

    def flaky(host: Host, command: str) -> CommandResult:
        calls["n"] += 1
        return ok("done") if calls["n"] >= 3 else ok("", rc=1)

    result = run(
        book(step("flaky", "x", retries=3, retry_delay=0.5)),
        make_inventory("h1"),
        FakeConnector(flaky),
    )
    assert result.hosts[0].steps[0].status is Status.OK
    assert result.hosts[0].steps[0].attempts == 3


def test_when_false_skips_and_register_feeds_later_steps() -> None:
    conn = FakeConnector(lambda h, c: ok("42\n") if c == "first" else ok(c))
    result = run(
        book(
            step("first", "first", register="answer"),
            step("skipped", "never", when="answer.stdout | int > 100"),
            step("uses", "echo {{ answer.stdout | trim }} {{ host.name }}"),
        ),
        make_inventory("h1"),
        conn,
    )
    steps = result.hosts[0].steps
    assert steps[1].status is Status.SKIPPED
    assert steps[2].stdout == "echo 42 h1"
    assert "h1:never" not in conn.log


def test_interpolated_values_are_shell_quoted() -> None:
    conn = FakeConnector(lambda h, c: ok(c))
    inv = make_inventory("h1", path="/tmp/x; rm -rf /")
    result = run(book(step("q", "ls {{ path }}")), inv, conn)
    assert result.hosts[0].steps[0].command == "ls '/tmp/x; rm -rf /'"


def test_checks_grade_and_nonzero_exit_is_not_failure_when_checked() -> None:
    crit = Check(
        name="procs",
        crit=Threshold(Comparison.LT, 1, "< 1"),
        value="stdout.split() | select('equalto', 'cron') | list | length",
    )
    disk = Check(
        name="disk",
        warn=Threshold(Comparison.GE, 80, ">= 80"),
        crit=Threshold(Comparison.GE, 90, ">= 90"),
        unit="%",
    )
    conn = FakeConnector(lambda h, c: ok("sshd\n", rc=1) if c == "ps" else ok("93\n"))
    result = run(
        book(step("procs", "ps", checks=(crit,)), step("disk", "df", checks=(disk,))),
        make_inventory("h1"),
        conn,
    )
    host = result.hosts[0]
    assert host.status is Status.OK
    assert [c.grade for c in host.checks] == [Grade.CRITICAL, Grade.CRITICAL]
    assert host.checks[1].value == 93


def test_command_not_found_fails_even_with_checks() -> None:
    disk = Check(name="disk", warn=Threshold(Comparison.GE, 80, ">= 80"))
    conn = FakeConnector(lambda h, c: CommandResult("dfx", "", "dfx: not found", 127))
    result = run(book(step("disk", "dfx", checks=(disk,))), make_inventory("h1"), conn)
    assert result.hosts[0].steps[0].status is Status.FAILED
    assert "127" in result.hosts[0].steps[0].error


def test_step_kind_not_for_host_kind_is_skipped() -> None:
    inv = make_inventory("h1")
    cli = Step(name="show", kind=StepKind.CLI, action="show version")
    result = run(book(cli), inv, FakeConnector(lambda h, c: ok()))
    assert result.hosts[0].steps[0].status is Status.SKIPPED
    assert "network" in result.hosts[0].steps[0].error


def test_stop_event_interrupts_remaining_work() -> None:
    stop = threading.Event()

    def script(host: Host, command: str) -> CommandResult:
        stop.set()
        return ok()

    result = run(
        book(step("a", "a"), step("b", "b")), make_inventory("h1"), FakeConnector(script), stop=stop
    )
    assert result.status is RunStatus.ABORTED
    assert result.hosts[0].steps[1].status is Status.INTERRUPTED


def test_forks_bound_concurrency() -> None:
    active = {"now": 0, "max": 0}
    lock = threading.Lock()
    gate = threading.Barrier(2, timeout=5)

    def script(host: Host, command: str) -> CommandResult:
        with lock:
            active["now"] += 1
            active["max"] = max(active["max"], active["now"])
        with contextlib.suppress(threading.BrokenBarrierError):
            gate.wait()
        with lock:
            active["now"] -= 1
        return ok()

    inv = make_inventory(*(f"h{i}" for i in range(8)))
    clock = ManualClock()
    config = EngineConfig(default_forks=2, connect_timeout=1, step_timeout=5)
    plan = plan_run(RunRequest(book(step("a", "a")), forks=2), inv, ReadOnlyOnly(), clock, config)
    conn = FakeConnector(script)
    execute_run(plan, dict.fromkeys(StepKind, conn), RunListener(), ReadOnlyOnly(), clock, config)
    assert active["max"] == 2


def test_gate_refusal_raises_before_any_connection() -> None:
    conn = FakeConnector(lambda h, c: ok())
    with pytest.raises(ChangeGateError, match="changes its targets"):
        run(book(step("a", "a"), mutates=True), make_inventory("h1"), conn, gate=ReadOnlyOnly())
    assert conn.connects == []


def test_gate_is_checked_again_at_execute_time() -> None:
    class FlipGate:
        calls = 0

        def check(self, request: GateRequest) -> GateDecision:
            FlipGate.calls += 1
            return GateDecision(
                FlipGate.calls == 1, "window closed" if FlipGate.calls > 1 else "ok"
            )

    clock = ManualClock()
    config = EngineConfig()
    inv = make_inventory("h1")
    plan = plan_run(RunRequest(book(step("a", "a"))), inv, FlipGate(), clock, config)
    conn = FakeConnector(lambda h, c: ok())
    with pytest.raises(ChangeGateError, match="window closed"):
        execute_run(plan, dict.fromkeys(StepKind, conn), RunListener(), FlipGate(), clock, config)
    assert conn.connects == []


def test_plan_refuses_unmatched_targets_and_missing_vars() -> None:
    inv = make_inventory("h1")
    with pytest.raises(ConfigError, match="matches no host"):
        run(book(step("a", "a")), inv, FakeConnector(lambda h, c: ok()), limit="nothere")
    needs = book(step("a", "echo {{ undefined_thing }}"))
    with pytest.raises(RunbookError, match="undefined_thing"):
        run(needs, inv, FakeConnector(lambda h, c: ok()))


def test_host_results_are_in_inventory_order() -> None:
    names = [f"h{i}" for i in range(10)]
    result = run(book(step("a", "a")), make_inventory(*names), FakeConnector(lambda h, c: ok()))
    assert [h.host for h in result.hosts] == names


def test_plan_hosts_and_batches(tmp_path: Any) -> None:
    inv = make_inventory("h1", "h2")
    plan = plan_run(
        RunRequest(book(step("a", "a")), operator="alice"),
        inv,
        ReadOnlyOnly(),
        ManualClock(),
        EngineConfig(),
    )
    assert plan.host_names == ("h1", "h2")
    assert plan.batches == (plan.hosts,)
    assert plan.gate.allowed
    assert plan.operator == "alice"
    assert isinstance(plan.options, Mapping)


def test_lazy_transport_unreachable_at_run_time_is_unreachable() -> None:
    conn = FakeConnector(lambda h, c: HostUnreachable("ssh: connect to host: No route"))
    result = run(book(step("a", "a"), step("b", "b")), make_inventory("h1"), conn)
    host = result.hosts[0]
    assert host.status is Status.UNREACHABLE
    assert [s.status for s in host.steps] == [Status.UNREACHABLE, Status.SKIPPED]
    assert "No route" in host.error


def test_batches_from_strategy_count_and_percent() -> None:
    from orchestrator.engine.rollout import make_batches
    from orchestrator.runbook.model import Strategy

    hosts = [Host(f"h{i}") for i in range(10)]
    assert [len(b) for b in make_batches(hosts, Strategy(batch=4))] == [4, 4, 2]
    assert [len(b) for b in make_batches(hosts, Strategy(batch_percent=25))] == [3, 3, 3, 1]
    assert [len(b) for b in make_batches(hosts, Strategy())] == [10]
    assert [len(b) for b in make_batches(hosts[:1], Strategy(batch_percent=10))] == [1]


def test_gate_refusal_between_batches_stops_before_the_next_batch() -> None:
    from orchestrator.runbook.model import Strategy

    asked: list[int | None] = []

    class WindowCloses:
        def check(self, request: GateRequest) -> GateDecision:
            asked.append(request.batch)
            if request.batch is not None and request.batch >= 1:
                return GateDecision(False, "maintenance window closed at 02:00")
            return GateDecision(True, "in window")

    conn = FakeConnector(lambda h, c: ok())
    runbook = Runbook(
        name="t",
        kind=RunbookKind.INSPECTION,
        change=ChangePolicy.STANDARD,
        targets="linux",
        steps=(step("a", "a"),),
        strategy=Strategy(batch=2),
    )
    result = run(runbook, make_inventory("h1", "h2", "h3", "h4", "h5"), conn, gate=WindowCloses())
    assert result.status is RunStatus.ABORTED
    assert "window closed" in result.reason
    assert sorted(conn.connects) == ["h1", "h2"]
    later = [h for h in result.hosts if h.host in ("h3", "h4", "h5")]
    assert all(h.status is Status.SKIPPED for h in later)
    assert all("window closed" in h.error for h in later)
    assert asked == [None, None, 1]  # plan, execute, before batch 2 (then it stops asking)


def test_changed_when_decides_from_the_steps_own_output() -> None:
    outputs = {"upgrade": ok("Unpacking labapp (1.1)\n"), "noop": ok("0 upgraded\n")}
    conn = FakeConnector(lambda h, c: outputs.get(c, ok("", rc=1)))
    changed_when = "'Unpacking ' in stdout"
    result = run(
        book(
            step("upgrade", "upgrade", changed_when=changed_when),
            step("noop", "noop", changed_when=changed_when),
            step("broken", "broken", changed_when="true", ignore_errors=True),
        ),
        make_inventory("h1"),
        conn,
    )
    upgrade, noop, broken = result.hosts[0].steps
    assert (upgrade.status, upgrade.changed) == (Status.CHANGED, True)
    assert (noop.status, noop.changed) == (Status.OK, False)
    assert broken.status is Status.FAILED  # a failed step stays failed, whatever changed_when says
    assert result.hosts[0].status is Status.CHANGED
