"""The backups part of a run report: targets whose configuration changed since their
previous backup (with the masked diff), and restore verifications (verdict, reasons,
RTO, backup age, the dry-run restore plan of network devices).

Read from the run's ``meta`` (``store.backup_listener`` writes it as steps finish), so a
stored run reports the same as a fresh one. None when the run backed nothing up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.reports.i18n import Lang

_DIFF_LINES = 80  # lines of one diff shown; the full diff is `orchestrator backup diff`

_LABELS: dict[Lang, dict[str, str]] = {
    Lang.EN: {
        "title": "Backups",
        "summary": "{n} artifact(s) on {targets} target(s); {new} new object(s) stored, "
        "{unchanged} unchanged; {changed} changed since the previous backup",
        "changed": "Changed targets",
        "none_changed": "No target changed since its previous backup.",
        "restores": "Restore verification",
        "pass": "pass",
        "fail": "FAIL",
        "new": "new",
        "unchanged": "unchanged",
        "secret rotated": "secret rotated (masked; configuration otherwise unchanged)",
        "changed.kind": "changed",
        "more": "… {n} more line(s): orchestrator backup diff {host} -a {artifact}",
        "plan": "Restore plan (dry run, not applied)",
        "in_sync": "in sync with the backup: nothing to restore",
        "files": "{verified}/{files} files",
        "rto": "RTO {s:.2f} s",
        "age": "backup age {h:.1f} h",
        "max": "max {h:.1f} h",
    },
    Lang.ZH: {
        "title": "备份",
        "summary": "{targets} 个目标共 {n} 项；新存储对象 {new} 个，未变 {unchanged} 项；"
        "较上次备份有变化 {changed} 项",
        "changed": "配置有变化的目标",
        "none_changed": "与上次备份相比，没有目标发生变化。",
        "restores": "恢复验证",
        "pass": "通过",
        "fail": "未通过",
        "new": "首次备份",
        "unchanged": "未变",
        "secret rotated": "仅密钥重新加密（已遮蔽；配置其余未变）",
        "changed.kind": "有变化",
        "more": "… 另有 {n} 行：orchestrator backup diff {host} -a {artifact}",
        "plan": "恢复方案（演练，未执行）",
        "in_sync": "与备份一致：无需恢复",
        "files": "文件 {verified}/{files}",
        "rto": "恢复用时 (RTO) {s:.2f} 秒",
        "age": "备份距今 {h:.1f} 小时",
        "max": "上限 {h:.1f} 小时",
    },
}


@dataclass(frozen=True)
class ChangedItem:
    host: str
    artifact: str
    change: str  # new | changed | secret rotated
    change_label: str
    version: str
    delta: str  # "+3 -1"
    diff: str  # masked, bounded


@dataclass(frozen=True)
class RestoreItem:
    source: str
    artifact: str
    version: str
    host: str  # where it was verified
    ok: bool
    verdict: str
    reasons: str
    facts: str  # files verified, RTO, age
    plan: str  # network devices: the dry-run restore plan


@dataclass(frozen=True)
class BackupsView:
    title: str
    summary: str
    changed_title: str
    changed: tuple[ChangedItem, ...]
    none_changed: str
    restores_title: str
    restores: tuple[RestoreItem, ...]
    plan_title: str


def _label(lang: Lang, key: str) -> str:
    return _LABELS[lang].get(key) or _LABELS[Lang.EN].get(key) or key


def _changed(item: Mapping[str, Any], lang: Lang) -> ChangedItem:
    lines = str(item.get("diff") or "").splitlines()
    diff = "\n".join(lines[:_DIFF_LINES])
    if len(lines) > _DIFF_LINES:
        diff += "\n" + _label(lang, "more").format(
            n=len(lines) - _DIFF_LINES, host=item.get("host"), artifact=item.get("artifact")
        )
    change = str(item.get("change"))
    key = "changed.kind" if change == "changed" else change
    delta = f"+{item.get('added', 0)} -{item.get('removed', 0)}" if change == "changed" else ""
    return ChangedItem(
        str(item.get("host")),
        str(item.get("artifact")),
        change,
        _label(lang, key),
        str(item.get("version")),
        delta,
        diff,
    )


def _restore(item: Mapping[str, Any], lang: Lang) -> RestoreItem:
    ok = bool(item.get("ok"))
    facts = []
    if item.get("files") is not None:
        facts.append(
            _label(lang, "files").format(verified=item.get("verified", 0), files=item["files"])
        )
    if item.get("rto_s") is not None:
        facts.append(_label(lang, "rto").format(s=float(item["rto_s"])))
    if item.get("newest_age_s") is not None:
        facts.append(_label(lang, "age").format(h=float(item["newest_age_s"]) / 3600))
    if item.get("max_age_s") is not None:
        facts.append(_label(lang, "max").format(h=float(item["max_age_s"]) / 3600))
    plan = "\n".join(item.get("plan") or [])
    if "plan" in item and not plan and item.get("in_sync"):
        plan = _label(lang, "in_sync")
    return RestoreItem(
        str(item.get("source")),
        str(item.get("artifact")),
        str(item.get("version")),
        str(item.get("host")),
        ok,
        _label(lang, "pass" if ok else "fail"),
        "; ".join(item.get("reasons") or []),
        ", ".join(facts),
        plan,
    )


def backups_view(meta: Mapping[str, Any], lang: Lang) -> BackupsView | None:
    items = [i for i in meta.get("backups") or [] if isinstance(i, Mapping)]
    restores = [r for r in meta.get("restore_verifications") or [] if isinstance(r, Mapping)]
    if not items and not restores:
        return None
    changed = [i for i in items if i.get("change") in ("changed", "secret rotated")]
    summary = _label(lang, "summary").format(
        n=len(items),
        targets=len({i.get("host") for i in items}),
        new=sum(1 for i in items if i.get("stored_new")),
        unchanged=sum(1 for i in items if i.get("change") == "unchanged"),
        changed=len(changed),
    )
    return BackupsView(
        title=_label(lang, "title"),
        summary=summary if items else "",
        changed_title=_label(lang, "changed"),
        changed=tuple(_changed(i, lang) for i in changed),
        none_changed=_label(lang, "none_changed") if items else "",
        restores_title=_label(lang, "restores"),
        restores=tuple(_restore(r, lang) for r in restores),
        plan_title=_label(lang, "plan"),
    )
