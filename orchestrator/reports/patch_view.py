"""The patch part of a run report (补丁升级证据): how the rollout went (batches, why it stopped,
resumes, host locks) and per host the package versions before → after (→ after rollback),
the reboot and boot time, the health checks, the failures and the rollback actions.

Read from the run's ``meta`` (``rollout``, ``patch``, ``host_locks``; written by the engine
when the run ends), so a stored run reports the same as a fresh one. None for runs that are
not rollouts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.reports.i18n import Lang, item_name, status_label

_LABELS: dict[Lang, dict[str, str]] = {
    Lang.EN: {
        "title": "Patch rollout",
        "summary": "{hosts} host(s): {changed} changed, {rebooted} rebooted, "
        "{rolled_back} rolled back, {failed} with failures",
        "strategy": "Strategy",
        "batches": "Batches",
        "batch": "batch {n}: {hosts}",
        "batch_failed": " — failed: {failed}",
        "stopped": "Stopped",
        "resumed": "Resumed",
        "locks": "Host locks",
        "lock": "{host}: {action} after {waited} s (held by run {run}, {runbook})",
        "waited": "waited",
        "skipped": "skipped",
        "evidence": "Evidence per host",
        "packages": "Packages (before → after)",
        "rolled_back_to": "rolled back to {version}",
        "reboot": "Reboot",
        "rebooted": "yes, booted {time}",
        "not_rebooted": "no",
        "checks": "Health checks",
        "passed": "{n} passed",
        "failures": "Failures",
        "rollback": "Rollback",
        "none": "-",
    },
    Lang.ZH: {
        "title": "补丁升级",
        "summary": "共 {hosts} 台主机：变更 {changed} 台，重启 {rebooted} 台，"
        "回滚 {rolled_back} 台，出现失败 {failed} 台",
        "strategy": "发布策略",
        "batches": "批次",
        "batch": "第 {n} 批：{hosts}",
        "batch_failed": "——失败：{failed}",
        "stopped": "已停止",
        "resumed": "续跑",
        "locks": "主机锁",
        "lock": "{host}：等待 {waited} 秒后{action}（被执行 {run} 占用，{runbook}）",
        "waited": "继续执行",
        "skipped": "跳过",
        "evidence": "逐台证据",
        "packages": "软件包（升级前 → 升级后）",
        "rolled_back_to": "已回滚至 {version}",
        "reboot": "重启",
        "rebooted": "是，启动于 {time}",
        "not_rebooted": "否",
        "checks": "健康检查",
        "passed": "{n} 项通过",
        "failures": "失败",
        "rollback": "回滚",
        "none": "-",
    },
}
_SHOWN_PACKAGES = 10  # packages per host; the rest are counted


@dataclass(frozen=True)
class PatchHost:
    host: str
    status: str  # a host status value, for styling
    status_label: str
    packages: tuple[str, ...]  # "labapp 1.0 → 1.2 (rolled back to 1.0)"
    reboot: str
    checks: str
    checks_ok: bool
    failures: tuple[str, ...]
    rollback: tuple[str, ...]


@dataclass(frozen=True)
class PatchView:
    title: str
    summary: str
    facts: tuple[tuple[str, str], ...]  # (label, text): strategy, batches, stop, resumes
    locks_title: str
    locks: tuple[str, ...]
    evidence_title: str
    headers: tuple[str, ...]
    hosts: tuple[PatchHost, ...]


def _label(lang: Lang, key: str) -> str:
    return _LABELS[lang].get(key) or _LABELS[Lang.EN].get(key) or key


def patch_view(meta: Mapping[str, Any], lang: Lang) -> PatchView | None:
    rollout = _mapping(meta.get("rollout"))
    patch = _mapping(meta.get("patch"))
    locks = [e for e in meta.get("host_locks") or [] if isinstance(e, Mapping)]
    if not rollout and not patch:
        return None
    summary = patch.get("summary") or {}
    return PatchView(
        title=_label(lang, "title"),
        summary=_label(lang, "summary").format(**summary) if summary else "",
        facts=_facts(rollout, lang),
        locks_title=_label(lang, "locks"),
        locks=tuple(_lock(e, lang) for e in locks),
        evidence_title=_label(lang, "evidence"),
        headers=tuple(
            _label(lang, k) for k in ("packages", "reboot", "checks", "failures", "rollback")
        ),
        hosts=tuple(_host(h, lang) for h in patch.get("hosts") or [] if isinstance(h, Mapping)),
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _facts(rollout: Mapping[str, Any], lang: Lang) -> tuple[tuple[str, str], ...]:
    facts: list[tuple[str, str]] = []
    if rollout.get("strategy"):
        facts.append((_label(lang, "strategy"), str(rollout["strategy"])))
    batches = []
    for batch in rollout.get("batches") or []:
        text = _label(lang, "batch").format(n=batch["batch"], hosts=", ".join(batch["hosts"]))
        if batch.get("failed"):
            text += _label(lang, "batch_failed").format(failed=", ".join(batch["failed"]))
        batches.append(text)
    if batches:
        facts.append((_label(lang, "batches"), "; ".join(batches)))
    if rollout.get("stopped"):
        facts.append((_label(lang, "stopped"), str(rollout["stopped"])))
    if rollout.get("resumed"):
        facts.append((_label(lang, "resumed"), ", ".join(rollout["resumed"])))
    return tuple(facts)


def _lock(event: Mapping[str, Any], lang: Lang) -> str:
    return _label(lang, "lock").format(
        host=event.get("host"),
        action=_label(lang, str(event.get("action"))),
        waited=event.get("waited_s"),
        run=event.get("held_by"),
        runbook=event.get("runbook"),
    )


def _host(host: Mapping[str, Any], lang: Lang) -> PatchHost:
    checks = [c for c in host.get("checks") or [] if isinstance(c, Mapping)]
    bad = [c for c in checks if not _passed(c)]
    if bad:
        check_text = ", ".join(item_name(str(c["step"]), lang) for c in bad)
    elif checks:
        check_text = _label(lang, "passed").format(n=len(checks))
    else:
        check_text = _label(lang, "none")
    status = str(host.get("status", ""))
    return PatchHost(
        host=str(host.get("host")),
        status=status,
        status_label=status_label(lang, status),
        packages=_packages(host.get("packages") or [], lang),
        reboot=(
            _label(lang, "rebooted").format(time=host.get("boot_time") or "?")
            if host.get("rebooted")
            else _label(lang, "not_rebooted")
        ),
        checks=check_text,
        checks_ok=not bad,
        failures=tuple(str(f) for f in host.get("failures") or []),
        rollback=tuple(
            f"{item_name(str(r['step']), lang)}: {status_label(lang, str(r['status']))}"
            for r in host.get("rollback") or []
        ),
    )


def _passed(check: Mapping[str, Any]) -> bool:
    if check.get("status") in ("failed", "timeout", "unreachable"):
        return False
    return not any(i.get("grade") in ("critical", "unknown") for i in check.get("items") or [])


def _packages(packages: Sequence[Mapping[str, str]], lang: Lang) -> tuple[str, ...]:
    shown = []
    for p in packages[:_SHOWN_PACKAGES]:
        text = f"{p['package']} {p.get('before') or '-'} → {p.get('after') or '-'}"
        if "rolled_back" in p:
            version = p["rolled_back"] or "-"
            text += f" ({_label(lang, 'rolled_back_to').format(version=version)})"
        shown.append(text)
    if len(packages) > _SHOWN_PACKAGES:
        shown.append(f"… +{len(packages) - _SHOWN_PACKAGES}")
    return tuple(shown)
