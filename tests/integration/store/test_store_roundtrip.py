"""A run written through RunStore comes back as the same RunResult, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from store_builders import T0, make_host, make_host_result, make_plan, make_step, usage_check

from orchestrator.clock import ManualClock
from orchestrator.engine.results import CheckResult, RunResult, RunStatus, Status, StepResult
from orchestrator.errors import StoreError
from orchestrator.runbook.model import Grade
from orchestrator.store.outputs import STDERR_MARKER
from orchestrator.store.runs import RunStore

CST = timezone(timedelta(hours=8))  # operators' local zone; must come back as the same instant


def _full_result(run_id: str) -> RunResult:
    web01_steps = (
        make_step(
            0,
            name="root filesystem usage",
            stdout="87.5\n",
            checks=[
                usage_check(87.5, Grade.WARNING),
                CheckResult("inode use /", Grade.NORMAL, 3, "%", "", ""),
                CheckResult("ntpd", Grade.CRITICAL, "inactive", "", "== inactive", "启动 ntpd"),
                CheckResult("swap", Grade.UNKNOWN, None, "", "", "no swap line in output"),
            ],
            parsed={"mounts": [{"path": "/", "use": 87.5}], "ok": True, "count": 2},
        ),
        make_step(
            1,
            name="内核版本",
            stdout="6.1.0-中文-amd64\n巡检完成 ✓\n",
            stderr="warning: 磁盘\n",
            started=datetime(2026, 3, 1, 16, 0, tzinfo=CST),
        ),
    )
    web02_steps = (
        make_step(
            0,
            name="root filesystem usage",
            status=Status.FAILED,
            exit_code=2,
            stderr="df: /: permission denied\n",
            checks=[usage_check(None, Grade.UNKNOWN)],
        ),
        replace(make_step(1, status=Status.FAILED, exit_code=1), ignored=True),
    )
    return RunResult(
        run_id=run_id,
        runbook="daily-inspection",
        status=RunStatus.FAILED,
        hosts=(
            make_host_result("web01", web01_steps),
            make_host_result("web02", web02_steps, status=Status.FAILED, error="step 0 failed"),
        ),
        started=T0,
        ended=T0 + timedelta(minutes=2),
        reason="",
        meta={"batches": 1, "note": "夜间"},
    )


def _record(store: RunStore, run_id: str) -> RunResult:
    result = _full_result(run_id)
    plan = make_plan(
        run_id, ("web01", "web02"), limit="web0*", options={"dry_run": False, "tags": ["a"]}
    )
    store.create_run(plan, pid=4242, node="ops-node-1")
    for host in result.hosts:
        store.host_started(run_id, make_host(host.host))
        for step in host.steps:
            store.record_step(run_id, host.host, step)
        store.finish_host(run_id, host)
    store.finish_run(result)
    return result


def test_full_run_round_trips(store: RunStore, clock: ManualClock) -> None:
    expected = _record(store, "run-0001")

    record = store.get("run-0001")

    assert record.result == expected
    assert (record.operator, record.trigger, record.change_id) == ("alice", "cli", "CHG-2026-0001")
    assert (record.limit, record.forks, record.host_count) == ("web0*", 10, 2)
    assert (record.gate_policy, record.gate_reason) == (
        "test policy",
        "read-only runbook with change: standard",
    )
    assert (record.node, record.pid, record.kind) == ("ops-node-1", 4242, "inspection")
    assert record.created == T0
    assert record.options == {"dry_run": False, "tags": ["a"]}


def test_values_keep_their_types(store: RunStore) -> None:
    _record(store, "run-types")
    host = store.get("run-types").result.hosts[0]
    values = [c.value for c in host.steps[0].checks]
    assert values == [87.5, 3, "inactive", None]
    assert isinstance(values[0], float)
    assert isinstance(values[1], int)
    assert host.steps[0].parsed == {"mounts": [{"path": "/", "use": 87.5}], "ok": True, "count": 2}
    assert host.steps[1].stdout == "6.1.0-中文-amd64\n巡检完成 ✓\n"


def test_datetimes_come_back_timezone_aware_utc(store: RunStore) -> None:
    _record(store, "run-tz")
    record = store.get("run-tz")
    step = record.result.hosts[0].steps[1]
    stamps = [record.created, record.result.started, record.result.ended, step.started, step.ended]
    for stamp in stamps:
        assert stamp is not None
        assert stamp.utcoffset() == timedelta(0)
    assert step.started == datetime(2026, 3, 1, 8, 0, 1, tzinfo=UTC)  # 16:00 +08:00, +1 s


def test_full_output_is_in_a_checksummed_file(store: RunStore, output_root: Path) -> None:
    _record(store, "run-out")
    record = store.get("run-out")
    ref = record.output("web01", 1)
    assert ref is not None
    data = (output_root / ref.path).read_bytes()
    assert hashlib.sha256(data).hexdigest() == ref.sha256
    assert ref.size == len(data)
    assert ref.path == "run-out/web01/01-内核版本.log"
    text = store.read_output("run-out", "web01", 1)
    assert text == "6.1.0-中文-amd64\n巡检完成 ✓\n" + STDERR_MARKER + "warning: 磁盘\n"


def test_json_dict_is_serialisable_and_stable(store: RunStore) -> None:
    _record(store, "run-json")
    doc = json.loads(json.dumps(store.get("run-json").to_json_dict(), ensure_ascii=False))
    assert doc["status"] == "failed"
    assert doc["created"] == "2026-03-01T08:00:00+00:00"
    assert doc["summary"]["hosts"]["ok"] == 1
    assert doc["summary"]["hosts"]["failed"] == 1
    assert doc["summary"]["grades"] == {"normal": 1, "warning": 1, "critical": 1, "unknown": 2}
    web01 = doc["hosts"][0]
    assert web01["grade"] == "critical"
    assert [c["value"] for c in web01["steps"][0]["checks"]] == [87.5, 3, "inactive", None]
    assert web01["steps"][1]["output"]["path"] == "run-json/web01/01-内核版本.log"
    assert doc["hosts"][1]["steps"][0]["output"]["bytes"] == len(
        b"--- stderr ---\ndf: /: permission denied\n"
    )


def test_large_output_keeps_a_bounded_excerpt(store: RunStore) -> None:
    store.create_run(make_plan("run-big", ("web01",)), pid=1, node="n")
    big = "".join(f"line {i:05d} 数据\n" for i in range(8000))
    store.record_step("run-big", "web01", make_step(0, stdout=big))
    step = store.get("run-big").result.hosts[0].steps[0]
    assert len(step.stdout.encode()) <= 4096
    assert step.stdout.startswith("line 00000 数据\n")
    assert step.stdout.endswith("line 07999 数据\n")
    assert "bytes omitted" in step.stdout
    assert store.read_output("run-big", "web01", 0) == big


def test_nul_in_output_is_stored_everywhere(store: RunStore) -> None:
    store.create_run(make_plan("run-nul", ("web01",)), pid=1, node="n")
    store.record_step("run-nul", "web01", make_step(0, stdout="a\x00b\n", parsed={"k": "x\x00"}))
    step = store.get("run-nul").result.hosts[0].steps[0]
    assert step.stdout == "a\ufffdb\n"
    assert step.parsed == {"k": "x\ufffd"}
    assert store.read_output("run-nul", "web01", 0) == "a\x00b\n"


def test_recording_a_step_again_replaces_it(store: RunStore) -> None:
    store.create_run(make_plan("run-again", ("web01",)), pid=1, node="n")
    store.record_step(
        "run-again", "web01", make_step(0, stdout="1\n", checks=[usage_check(1), usage_check(2)])
    )
    store.record_step(
        "run-again", "web01", make_step(0, stdout="2\n", checks=[usage_check(95, Grade.CRITICAL)])
    )
    steps = store.get("run-again").result.hosts[0].steps
    assert len(steps) == 1
    assert steps[0].stdout == "2\n"
    assert [(c.value, c.grade) for c in steps[0].checks] == [(95, Grade.CRITICAL)]
    assert store.read_output("run-again", "web01", 0) == "2\n"


def test_finish_records_what_events_missed(store: RunStore, clock: ManualClock) -> None:
    plan = make_plan("run-miss", ("web01", "web02", "web03"))
    store.create_run(plan, pid=1, node="n")
    store.host_started("run-miss", make_host("web03"))  # never reported finished
    web01 = make_host_result("web01", [make_step(0, stdout="x\n"), make_step(1)])
    web02 = make_host_result("web02", [], status=Status.UNREACHABLE, error="connection refused")
    clock.advance(60)
    store.finish_run(
        RunResult(
            "run-miss",
            "daily-inspection",
            RunStatus.ABORTED,
            hosts=(web01, web02),
            started=T0,
            reason="threshold breached",
        )
    )
    record = store.get("run-miss")
    assert record.status is RunStatus.ABORTED
    assert record.result.reason == "threshold breached"
    assert record.result.ended == clock.now()
    by_host = {h.host: h for h in record.result.hosts}
    assert by_host["web01"] == web01
    assert by_host["web02"].status is Status.UNREACHABLE
    assert by_host["web02"].error == "connection refused"
    assert by_host["web03"].status is Status.INTERRUPTED
    assert by_host["web03"].ended == clock.now()


def test_refused_run_is_recorded(store: RunStore, clock: ManualClock) -> None:
    plan = make_plan(
        "run-refused", allowed=False, gate_reason="runbook 'patch' needs an approved change record"
    )
    store.record_refused(plan, pid=77, node="ops-node-1")
    record = store.get("run-refused")
    assert record.status is RunStatus.REFUSED
    assert record.result.reason == "runbook 'patch' needs an approved change record"
    assert record.gate_reason == record.result.reason
    assert record.result.hosts == ()
    assert record.result.started is None
    assert record.result.ended == clock.now()
    assert record.host_count == 2
    assert record.planned_hosts == ("web01", "web02")  # what was asked for, though refused


def test_recording_twice_or_for_an_unknown_run_fails(store: RunStore) -> None:
    store.create_run(make_plan("run-dup"), pid=1, node="n")
    with pytest.raises(StoreError, match="already recorded"):
        store.create_run(make_plan("run-dup"), pid=1, node="n")
    with pytest.raises(StoreError, match="never recorded"):
        store.record_step("no-such-run", "web01", make_step(0))
    with pytest.raises(StoreError, match="never recorded"):
        store.finish_run(RunResult("no-such-run", "x", RunStatus.SUCCEEDED))


def test_naive_datetimes_are_refused(store: RunStore) -> None:
    store.create_run(make_plan("run-naive", ("web01",)), pid=1, node="n")
    naive = StepResult(name="s", index=0, status=Status.OK, started=datetime(2026, 1, 1))
    with pytest.raises(StoreError, match="naive datetime"):
        store.record_step("run-naive", "web01", naive)


def test_altered_output_file_is_detected(store: RunStore, output_root: Path) -> None:
    store.create_run(make_plan("run-alter", ("web01",)), pid=1, node="n")
    store.record_step("run-alter", "web01", make_step(0, stdout="disk ok\n"))
    ref = store.get("run-alter").output("web01", 0)
    assert ref is not None
    (output_root / ref.path).write_text("disk fine\n")
    with pytest.raises(StoreError, match="altered"):
        store.read_output("run-alter", "web01", 0)


def test_hosts_come_back_in_plan_order_whatever_order_they_ran(store: RunStore) -> None:
    plan = make_plan("run-order", ("db01", "web01", "app01"))
    store.create_run(plan, pid=1, node="n")
    for name in ("app01", "db01"):  # forks: app01 happened to start first
        store.host_started("run-order", make_host(name))
    store.finish_host("run-order", make_host_result("web01", [], status=Status.SKIPPED))
    record = store.get("run-order")
    assert [h.host for h in record.result.hosts] == ["db01", "web01", "app01"]
    assert record.planned_hosts == ("db01", "web01", "app01")
    assert record.to_json_dict()["planned_hosts"] == ["db01", "web01", "app01"]
