"""Valid runbooks load into the expected model; the catalog finds them by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import NotFoundError, RunbookError
from orchestrator.runbook.loader import RunbookCatalog, free_variables, load_runbook
from orchestrator.runbook.model import (
    ChangePolicy,
    Comparison,
    ParseKind,
    ParseSpec,
    RunbookKind,
    StepKind,
    Strategy,
    Threshold,
)

DATA = Path(__file__).parents[2] / "data" / "runbooks"
VALID = DATA / "valid"
REPO_RUNBOOKS = Path(__file__).parents[3] / "runbooks"


def test_minimal_runbook_gets_the_defaults() -> None:
    book = load_runbook(VALID / "minimal.yml")
    assert book.name == "minimal"
    assert book.kind is RunbookKind.CUSTOM
    assert book.change is ChangePolicy.REQUIRED
    assert book.mutates is True  # custom runbooks are assumed to change things
    assert book.targets == "all"
    assert book.timeout is None
    assert book.strategy == Strategy()
    assert dict(book.vars) == {}
    assert book.path == VALID / "minimal.yml"
    (step,) = book.steps
    assert (step.name, step.kind, step.action) == ("uptime", StepKind.COMMAND, "uptime")
    assert (step.when, step.register, step.timeout, step.parse, step.checks) == (
        None,
        None,
        None,
        None,
        (),
    )
    assert (step.retries, step.retry_delay, step.ignore_errors, step.raw) == (0, 1.0, False, False)
    assert step.line == 4


def test_full_runbook_loads_every_field() -> None:
    book = load_runbook(VALID / "disk-check.yml", known_vars={"extra_mount"})
    assert book.description == "日常巡检 — disks of critical hosts"
    assert (book.kind, book.change, book.mutates) == (
        RunbookKind.INSPECTION,
        ChangePolicy.STANDARD,
        False,
    )
    assert book.targets == "linux:&critical"
    assert book.timeout == 90.0
    assert book.strategy.forks == 20
    assert dict(book.vars) == {"disk_warn": 80, "mounts": ["/", "/var"]}
    assert type(book.vars["mounts"]) is list  # plain data, not the YAML line-tracking types

    root, filesystems, kernel = book.steps
    assert root.raw
    assert root.timeout == 10.0
    assert root.retries == 2
    assert root.retry_delay == 2.0
    assert root.register == "rootfs"
    (check,) = root.checks
    assert check.name == "root filesystem usage"  # defaults to the step name
    assert check.warn == Threshold(Comparison.GE, "{{ disk_warn }}", ">= {{ disk_warn }}")
    assert check.crit == Threshold(Comparison.GE, 90.0, ">= 90")
    assert (check.unit, check.hint, check.line) == (
        "%",
        "clean /var/log or grow the filesystem",
        21,
    )

    assert filesystems.when == "host.kind == 'linux' and rootfs.rc == 0"
    assert filesystems.ignore_errors
    assert filesystems.parse == ParseSpec(
        ParseKind.REGEX, pattern=r"(?P<use>\d+)%\s+(?P<mount>/\S*)$", multi=True
    )
    fs_use, fs_count = filesystems.checks
    assert (fs_use.name, fs_use.loop, fs_use.label, fs_use.value) == (
        "fs use",
        "parsed",
        "item.mount",
        "item.use",
    )
    assert (fs_count.name, fs_count.value, fs_count.warn) == ("fs count", "parsed | length", None)
    assert fs_count.crit == Threshold(Comparison.LT, 1.0, "< 1")

    assert kernel.parse is not None
    assert kernel.parse.kind is ParseKind.TEXTFSM
    assert kernel.parse.pattern == str((VALID / "templates" / "uname.textfsm").resolve())


def test_network_runbook_with_cli_ntc_and_registers() -> None:
    book = load_runbook(VALID / "network-backup.yml", known_vars=set())
    assert (book.kind, book.mutates) == (RunbookKind.BACKUP, False)
    version, config = book.steps
    assert version.kind is StepKind.CLI
    assert version.action == "show version"
    assert version.parse == ParseSpec(ParseKind.TEXTFSM, ntc=True)
    assert version.checks[0].warn == Threshold(Comparison.NE, "0x2102", '!= "0x2102"')
    assert config.when == "version.status == 'ok'"


def test_ansible_steps_keep_module_args_and_resolve_playbooks() -> None:
    book = load_runbook(VALID / "patch-ntp.yml", known_vars={"chrony_state"})
    assert book.kind is RunbookKind.PATCH
    assert book.mutates
    install, configure, ping = book.steps
    assert install.kind is StepKind.ANSIBLE
    assert install.action == {
        "module": "apt",
        "args": {"name": "chrony", "state": "{{ chrony_state }}"},
    }
    assert type(install.action["args"]) is dict  # type: ignore[index]
    assert configure.action == {"playbook": str((VALID / "playbooks" / "ntp.yml").resolve())}
    assert ping.action == {"module": "ping"}
    assert ping.timeout == 300.0
    assert book.strategy.forks == 5


def test_inventory_names_are_checked_only_when_given() -> None:
    load_runbook(VALID / "patch-ntp.yml")  # None: names may come from the inventory
    with pytest.raises(RunbookError, match="undefined variable 'chrony_state'") as caught:
        load_runbook(VALID / "patch-ntp.yml", known_vars={"ntp_server"})
    (problem,) = caught.value.problems
    assert (problem.line, problem.field) == (10, "steps[0].ansible.args")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("minimal", frozenset()),
        ("disk-check", frozenset({"extra_mount"})),
        ("network-backup", frozenset()),
        ("patch-ntp", frozenset({"chrony_state"})),
    ],
)
def test_free_variables_are_what_the_inventory_must_define(
    name: str, expected: frozenset[str]
) -> None:
    assert free_variables(load_runbook(VALID / f"{name}.yml")) == expected


def test_free_variables_include_vars_keys_and_threshold_templates(tmp_path: Path) -> None:
    path = tmp_path / "fv.yml"
    path.write_text(
        "name: fv\ntargets: all\nvars: {a: 1}\nsteps:\n"
        "  - name: s\n    command: echo {{ vars.a }} {{ vars['site'] }}\n    register: r\n"
        "    when: r2 is not defined or zone == 'x'\n"
        "    checks: [{value: 'parsed[limit_key]', crit: '> {{ crit_level }}'}]\n"
        "  - name: t\n    command: echo {{ r.stdout }}\n    register: r2\n"
    )
    with pytest.raises(RunbookError, match="'r2' is used before step 't'"):
        load_runbook(path)
    path.write_text(path.read_text().replace("r2 is not defined or ", ""))
    assert free_variables(load_runbook(path)) == {"site", "zone", "limit_key", "crit_level"}


def test_repository_runbooks_are_valid() -> None:
    paths = sorted(REPO_RUNBOOKS.glob("*.yml"))
    if not paths:
        pytest.skip(f"no runbooks in {REPO_RUNBOOKS}")
    for path in paths:
        book = load_runbook(path)
        assert book.name == path.stem


# --- catalog -----------------------------------------------------------------------------------


def test_catalog_lists_loads_and_validates(tmp_path: Path) -> None:
    for name in ("minimal", "network-backup"):
        (tmp_path / f"{name}.yml").write_text((VALID / f"{name}.yml").read_text())
    (tmp_path / "other.yaml").write_text("name: other\ntargets: all\nsteps: []\n")
    (tmp_path / "notes.txt").write_text("not a runbook")
    catalog = RunbookCatalog(tmp_path)
    assert catalog.names() == ["minimal", "network-backup", "other"]
    assert catalog.path("other") == tmp_path / "other.yaml"
    assert catalog.load("minimal").name == "minimal"
    results = catalog.validate_all(known_vars=set())
    assert set(results) == {"minimal", "network-backup", "other"}
    assert results["minimal"].name == "minimal"  # type: ignore[union-attr]
    assert isinstance(results["other"], RunbookError)
    assert "at least one step" in str(results["other"])
    assert not isinstance(results["network-backup"], RunbookError)


def test_catalog_unknown_name_lists_the_available_ones(tmp_path: Path) -> None:
    (tmp_path / "daily-inspection.yml").write_text("")
    (tmp_path / "nightly-backup.yml").write_text("")
    with pytest.raises(NotFoundError) as caught:
        RunbookCatalog(tmp_path).path("daily-inspecton")
    message = str(caught.value)
    assert "did you mean 'daily-inspection'?" in message
    assert "available: daily-inspection, nightly-backup" in message


def test_catalog_accepts_a_path_outside_its_directory(tmp_path: Path) -> None:
    catalog = RunbookCatalog(tmp_path / "empty")
    assert catalog.names() == []
    outside = str(VALID / "minimal.yml")
    assert catalog.path(outside) == Path(outside)
    assert catalog.load(outside).name == "minimal"
    with pytest.raises(NotFoundError, match="available: none"):
        catalog.path("minimal")


def test_the_documented_example_is_valid(tmp_path: Path) -> None:
    doc = (Path(__file__).parents[3] / "docs" / "runbook-format.md").read_text(encoding="utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "disk-check.yml"
    path.write_text(example, encoding="utf-8")
    book = load_runbook(path, known_vars=set())
    assert [s.name for s in book.steps] == ["root filesystem usage", "filesystems"]
    assert free_variables(book) == frozenset()
