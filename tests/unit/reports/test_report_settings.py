"""The report_lang setting: zh by default, en or zh from file or environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import SettingsError
from orchestrator.settings import load_settings


def test_default_is_chinese_and_reports_live_under_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(env={"ORCH_DATA_DIR": str(tmp_path)})
    assert settings.report_lang == "zh"
    assert settings.reports_dir == tmp_path / "reports"


def test_from_file_and_environment(tmp_path: Path) -> None:
    config = tmp_path / "orchestrator.toml"
    config.write_text('report_lang = "en"\n')
    assert load_settings(config, env={}).report_lang == "en"
    assert load_settings(config, env={"ORCH_REPORT_LANG": "zh"}).report_lang == "zh"


def test_unknown_language_is_a_located_problem(tmp_path: Path) -> None:
    config = tmp_path / "orchestrator.toml"
    config.write_text('report_lang = "fr"\n')
    with pytest.raises(SettingsError) as err:
        load_settings(config, env={})
    problem = err.value.problems[0]
    assert problem.field == "report_lang"
    assert problem.file == str(config)
    assert "en, zh" in problem.message
