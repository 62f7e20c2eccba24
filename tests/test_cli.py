"""The ``synth`` command line, run in fresh processes: help, exit codes and one-line errors."""

import os
import subprocess
import sys

import pytest

HELP_WITHOUT_TENSORFLOW = """
import sys
from typer.testing import CliRunner
from synth.cli import app
result = CliRunner().invoke(app, ["--help"])
assert result.exit_code == 0 and "generate" in result.output, result.output
print(sorted(name for name in ("tensorflow", "keras") if name in sys.modules))
"""


def assert_one_line_error(result, fragment: str) -> None:
    """Exit code 2 and stderr is one line, the error naming ``fragment`` (no traceback, no library noise)."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], result.stderr


def test_help_does_not_import_tensorflow():
    result = subprocess.run([sys.executable, "-c", HELP_WITHOUT_TENSORFLOW], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_help_lists_the_commands(run_cli):
    result = run_cli("--help")
    assert result.returncode == 0
    assert all(command in result.stdout for command in ("train", "generate", "data"))


def test_generate_writes_a_dataset(run_cli, write_config, generate_config, tmp_path):
    result = run_cli("generate", "--config", write_config(generate_config()), "--out", "out")
    assert result.returncode == 0, result.stderr
    assert "9 windows written to out" in result.stdout and (tmp_path / "out" / "card.json").is_file()


def test_bad_config_key(run_cli, write_config, generate_config):
    result = run_cli("generate", "--config", write_config({**generate_config(), "bogus": 1}), "--out", "out")
    assert_one_line_error(result, "unknown key 'bogus' (allowed: anomaly, autoencoder, classifier, data, finetune, generate, model, profile, seed, share, train)")


def test_missing_config_file(run_cli):
    assert_one_line_error(run_cli("train", "--config", "nope.json"), "config file not found: nope.json")


def test_unknown_profile(run_cli, write_config, generate_config):
    result = run_cli("generate", "--config", write_config(generate_config(profile="lsm6dsl_5g")), "--out", "out")
    assert_one_line_error(result, "unknown sensor profile 'lsm6dsl_5g' (available: lsm6dsl_16g, lsm6dsl_2g")


def test_output_under_a_file(run_cli, write_config, generate_config, tmp_path):
    (tmp_path / "file").write_text("x")
    result = run_cli("generate", "--config", write_config(generate_config()), "--out", "file/out")
    assert_one_line_error(result, "file")
    assert (tmp_path / "file").read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_output_in_a_read_only_directory(run_cli, write_config, generate_config, tmp_path):
    (tmp_path / "locked").mkdir(mode=0o555)
    result = run_cli("generate", "--config", write_config(generate_config()), "--out", "locked/out")
    assert_one_line_error(result, "not writable")


def test_non_empty_output_needs_force(run_cli, write_config, generate_config, existing_output):
    result = run_cli("generate", "--config", write_config(generate_config()), "--out", "out")
    assert_one_line_error(result, "use --force")


def test_debug_shows_the_traceback(run_cli):
    result = run_cli("--debug", "train", "--config", "nope.json")
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "ConfigError: config file not found" in result.stderr
