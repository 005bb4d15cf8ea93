"""parse_output against captured command outputs (tests/data/runbooks/outputs/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.runbook.model import ParseKind, ParseSpec
from orchestrator.runbook.parse import ParseError, parse_output

DATA = Path(__file__).parents[2] / "data" / "runbooks"
OUTPUTS = DATA / "outputs"
DF_REGEX = r"^(?P<fs>\S+)\s+\d+\s+\d+\s+\d+\s+(?P<use>\d+)%\s+(?P<mount>/\S*)$"


def output(name: str) -> str:
    return (OUTPUTS / name).read_text(encoding="utf-8")


def test_regex_first_match_gives_named_groups_as_text() -> None:
    parsed = parse_output(ParseSpec(ParseKind.REGEX, pattern=DF_REGEX), output("linux_df_P.txt"))
    assert parsed == {"fs": "/dev/sda2", "use": "85", "mount": "/"}


def test_regex_multi_gives_every_match_line_by_line() -> None:
    spec = ParseSpec(ParseKind.REGEX, pattern=DF_REGEX, multi=True)
    parsed = parse_output(spec, output("linux_df_P.txt"))
    assert [(row["mount"], row["use"]) for row in parsed] == [
        ("/", "85"),
        ("/boot/efi", "2"),
        ("/var", "100"),
        ("/srv/data", "63"),
    ]


def test_regex_without_a_match_is_a_parse_error_showing_the_output() -> None:
    spec = ParseSpec(ParseKind.REGEX, pattern=r"(?P<load>\d+\.\d+) load")
    with pytest.raises(ParseError, match=r"does not match the output 'Filesystem"):
        parse_output(spec, output("linux_df_P.txt"))
    with pytest.raises(ParseError, match=r"\(output is empty\)"):
        parse_output(spec, "  \n")


def test_regex_multi_without_a_match_is_an_empty_list() -> None:
    spec = ParseSpec(ParseKind.REGEX, pattern=r"(?P<unit>\S+) failed", multi=True)
    assert parse_output(spec, "0 loaded units listed.\n") == []


def test_json_of_a_real_ip_command() -> None:
    parsed = parse_output(ParseSpec(ParseKind.JSON), output("linux_ip_j_addr_lo.json"))
    assert parsed[0]["ifname"] == "lo"
    assert parsed[0]["addr_info"][0]["local"] == "127.0.0.1"


def test_bad_json_names_line_and_column() -> None:
    with pytest.raises(ParseError, match=r"not JSON: .* at line 2 column 8"):
        parse_output(ParseSpec(ParseKind.JSON), '{"a": 1,\n  "b": }')


def test_textfsm_template_relative_to_the_runbook_dir() -> None:
    spec = ParseSpec(ParseKind.TEXTFSM, pattern="templates/linux_df.textfsm")
    rows = parse_output(spec, output("linux_df_P.txt"), base_dir=DATA)
    assert len(rows) == 4
    assert rows[2] == {
        "filesystem": "/dev/mapper/vg-var",
        "blocks": "20511312",
        "used": "19485747",
        "available": "6140",
        "capacity": "100",
        "mount": "/var",
    }


def test_textfsm_error_state_is_a_parse_error() -> None:
    spec = ParseSpec(ParseKind.TEXTFSM, pattern=str(DATA / "templates" / "linux_df.textfsm"))
    with pytest.raises(ParseError, match="unexpected line"):
        parse_output(spec, "Filesystem 1k\nsomething else entirely\n")


def test_textfsm_missing_template_is_a_parse_error(tmp_path: Path) -> None:
    spec = ParseSpec(ParseKind.TEXTFSM, pattern="nope.textfsm")
    with pytest.raises(ParseError, match="cannot read TextFSM template"):
        parse_output(spec, "x", base_dir=tmp_path)


def test_ntc_templates_parse_fakenos_cisco_ios_show_version() -> None:
    """The canned `show version` of fakenos's cisco_ios, parsed by ntc-templates."""
    rows = parse_output(
        ParseSpec(ParseKind.TEXTFSM, ntc=True),
        output("cisco_ios_show_version.txt"),
        platform="cisco_ios",
        command="show version",
    )
    (row,) = rows
    assert row["hostname"] == "rtr-01"
    assert row["version"] == "15.8(3)M2"
    assert row["config_register"] == "0x0"
    assert row["serial"] == ["991UCMIHG4UAJ1J010CQG"]


def test_ntc_templates_match_abbreviated_commands() -> None:
    rows = parse_output(
        ParseSpec(ParseKind.TEXTFSM, ntc=True),
        output("cisco_ios_show_ip_interface_brief.txt"),
        platform="cisco_ios",
        command="sh ip int br",
    )
    down = [r["interface"] for r in rows if r["status"] == "administratively down"]
    assert down == ["Ethernet0/2", "Ethernet0/3"]


def test_ntc_templates_need_a_known_platform_and_command() -> None:
    spec = ParseSpec(ParseKind.TEXTFSM, ntc=True)
    with pytest.raises(ParseError, match="platform"):
        parse_output(spec, "x", platform=None, command="show version")
    with pytest.raises(ParseError, match=r"ntc-templates: .*show nothing-like-this"):
        parse_output(spec, "x", platform="cisco_ios", command="show nothing-like-this")


def test_parsed_values_survive_json_round_trip() -> None:
    """Parsed data is stored by the engine: it must be plain JSON-able data."""
    rows = parse_output(
        ParseSpec(ParseKind.TEXTFSM, ntc=True),
        output("cisco_ios_show_version.txt"),
        platform="cisco_ios",
        command="show version",
    )
    assert json.loads(json.dumps(rows)) == rows
