"""``synth data fetch``: download with resume, unpack, verify, put in place; all against 127.0.0.1."""

from __future__ import annotations

import dataclasses
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synth.cli import app
from synth.data import fetch, registry
from synth.data.fetch import fetch_dataset
from synth.core.errors import FetchError
from http_fixtures import (
    Behaviour,
    build_zip,
    closed_port_url,
    pamap2_zip,
    serve,
    silent_server_url,
    spec_for,
    subject_files,
)

REPO = Path(__file__).resolve().parents[2]
PART = ".downloads/archive.zip.part"


@pytest.fixture
def files(monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    """Tiny subject files, with the pamap2 registry entry expecting exactly them."""
    files = subject_files()
    monkeypatch.setitem(registry.DATASETS, "pamap2", spec_for(files))
    return files


def expect_files(monkeypatch: pytest.MonkeyPatch, files: dict[str, bytes], **overrides: object) -> None:
    """Make the registry expect ``files`` except for Protocol/subject101.dat's ``overrides`` (size, sha256)."""
    spec = spec_for(files)
    first = dataclasses.replace(spec.files[0], **overrides)
    monkeypatch.setitem(registry.DATASETS, "pamap2", dataclasses.replace(spec, files=(first, *spec.files[1:])))


def assert_unpacked(folder: Path, files: dict[str, bytes]) -> None:
    """``folder`` is DEST/PAMAP2_Dataset and holds every file byte for byte."""
    assert folder.name == "PAMAP2_Dataset" and (folder / "Protocol").is_dir()
    for path, data in files.items():
        assert (folder / path).read_bytes() == data


def assert_nothing_left(dest: Path) -> None:
    """No data folder and no half-built staging folder under ``dest``."""
    assert not (dest / "PAMAP2_Dataset").exists()
    assert not [p for p in dest.iterdir() if p.name.startswith(".PAMAP2_Dataset")]


# --- the registry ------------------------------------------------------------------------------


def test_registry_holds_the_official_pamap2_entry() -> None:
    spec = registry.get_dataset("PAMAP2")
    assert spec.url == "https://archive.ics.uci.edu/static/public/231/pamap2+physical+activity+monitoring.zip"
    assert spec.archive == "pamap2+physical+activity+monitoring.zip"
    paths = [file.path for file in spec.files]
    assert len(paths) == 14 and sum(p.startswith("Protocol/") for p in paths) == 9
    assert spec.member_paths[0] == "PAMAP2_Dataset/Protocol/subject101.dat"
    by_path = {file.path: file for file in spec.files}
    assert by_path["Protocol/subject102.dat"].size == 207349310
    assert by_path["Optional/subject109.dat"].sha256.startswith("a6a8f7521d63")


def test_unknown_name_lists_known_names() -> None:
    with pytest.raises(FetchError, match="unknown data set 'wisdm'.*pamap2"):
        fetch_dataset("wisdm", "unused")


# --- success paths -----------------------------------------------------------------------------


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested-zip"])
def test_full_fetch_unpacks_and_verifies(tmp_path: Path, files: dict, nested: bool, capfd) -> None:
    with serve(Behaviour(pamap2_zip(files, nested=nested))) as url:
        folder = fetch_dataset("pamap2", tmp_path, url=url, progress=True)
    assert folder == tmp_path / "PAMAP2_Dataset"
    assert_unpacked(folder, files)
    assert not (tmp_path / ".downloads").exists()  # the archive is deleted once the data is in place
    assert "download" in capfd.readouterr().err  # the progress bar drew on stderr


def test_data_at_archive_root(tmp_path: Path, files: dict) -> None:
    with serve(Behaviour(pamap2_zip(files, root=""))) as url:
        assert_unpacked(fetch_dataset("pamap2", tmp_path, url=url), files)


def test_rerun_is_a_no_op_and_damage_is_repaired(tmp_path: Path, files: dict) -> None:
    behaviour = Behaviour(pamap2_zip(files))
    with serve(behaviour) as url:
        folder = fetch_dataset("pamap2", tmp_path, url=url)
        assert fetch_dataset("pamap2", tmp_path, url=url) == folder
        assert len(behaviour.requests) == 1  # the verified folder was reused
        (folder / "Protocol/subject102.dat").write_bytes(b"truncated")
        fetch_dataset("pamap2", tmp_path, url=url)
    assert len(behaviour.requests) == 2
    assert_unpacked(folder, files)


# --- resume ------------------------------------------------------------------------------------


def test_dropped_connection_is_resumed_with_range(tmp_path: Path, files: dict) -> None:
    body = pamap2_zip(files)
    half = len(body) // 2
    behaviour = Behaviour(body, drop_first_at=half)
    with serve(behaviour) as url:
        assert_unpacked(fetch_dataset("pamap2", tmp_path, url=url), files)
    first, second = (r.get("Range") for r in behaviour.requests)
    offset = int(second.removeprefix("bytes=").removesuffix("-"))
    # What arrived is kept, less at most the one network chunk that was being filled.
    assert first is None and half - fetch.NET_CHUNK_BYTES < offset <= half


def test_next_run_resumes_from_the_part_file(tmp_path: Path, files: dict, monkeypatch) -> None:
    monkeypatch.setattr(fetch, "ATTEMPTS", 1)
    body = pamap2_zip(files)
    half = len(body) // 2
    behaviour = Behaviour(body, drop_first_at=half)
    with serve(behaviour) as url:
        with pytest.raises(FetchError, match=f"broke off after [0-9]+ of {len(body)} bytes.*resume") as error:
            fetch_dataset("pamap2", tmp_path, url=url)
        assert "\n" not in str(error.value)
        kept = (tmp_path / PART).stat().st_size
        assert 0 < kept <= half and f"after {kept} of" in str(error.value)
        assert_unpacked(fetch_dataset("pamap2", tmp_path, url=url), files)
    assert behaviour.requests[1]["Range"] == f"bytes={kept}-"


def test_server_ignoring_range_restarts_cleanly(tmp_path: Path, files: dict) -> None:
    (tmp_path / ".downloads").mkdir()
    (tmp_path / PART).write_bytes(b"stale bytes from another file" * 100)
    behaviour = Behaviour(pamap2_zip(files), ignore_range=True)
    with serve(behaviour) as url:
        assert_unpacked(fetch_dataset("pamap2", tmp_path, url=url), files)
    assert behaviour.requests[0]["Range"] == f"bytes={29 * 100}-"


def test_complete_part_file_gets_416_and_is_used(tmp_path: Path, files: dict) -> None:
    body = pamap2_zip(files)
    (tmp_path / ".downloads").mkdir()
    (tmp_path / PART).write_bytes(body)
    behaviour = Behaviour(body)
    with serve(behaviour) as url:
        assert_unpacked(fetch_dataset("pamap2", tmp_path, url=url), files)
    assert len(behaviour.requests) == 1


# --- verification failures ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "override, expected",
    [({"sha256": "0" * 64}, "expected sha256 0000"), ({"size": 12}, "expected 12 bytes, got 200000")],
    ids=["sha256", "size"],
)
def test_mismatch_names_the_file_and_leaves_nothing(tmp_path: Path, monkeypatch, override: dict, expected: str) -> None:
    files = subject_files()
    expect_files(monkeypatch, files, **override)
    with serve(Behaviour(pamap2_zip(files))) as url:
        with pytest.raises(FetchError, match=f"Protocol/subject101.dat: {expected}") as error:
            fetch_dataset("pamap2", tmp_path, url=url)
    if "sha256" in override:
        assert hashlib.sha256(files["Protocol/subject101.dat"]).hexdigest() in str(error.value)
    assert_nothing_left(tmp_path)
    assert not (tmp_path / ".downloads/archive.zip").exists()  # a bad archive is not reused


def test_missing_file_is_listed(tmp_path: Path, files: dict) -> None:
    partial = {path: data for path, data in files.items() if path.startswith("Protocol/")}
    with serve(Behaviour(pamap2_zip(partial))) as url:
        with pytest.raises(FetchError, match="lacks 1 expected file.*Optional/subject101.dat"):
            fetch_dataset("pamap2", tmp_path, url=url)
    assert_nothing_left(tmp_path)


def test_corrupt_zip_is_a_fetch_error(tmp_path: Path, files: dict) -> None:
    with serve(Behaviour(b"PK\x03\x04 this is not really a zip" * 50)) as url:
        with pytest.raises(FetchError, match="archive.zip is not a valid zip archive"):
            fetch_dataset("pamap2", tmp_path, url=url)
    assert_nothing_left(tmp_path)


def test_path_traversal_is_refused(tmp_path: Path, files: dict) -> None:
    members = {f"PAMAP2_Dataset/{path}": data for path, data in files.items()}
    dest = tmp_path / "dest"
    with serve(Behaviour(build_zip(members | {"PAMAP2_Dataset/../../evil.txt": b"x"}))) as url:
        with pytest.raises(FetchError, match="points outside the data folder"):
            fetch_dataset("pamap2", dest, url=url)
    assert not list(tmp_path.rglob("evil.txt"))
    assert_nothing_left(dest)


# --- network failures --------------------------------------------------------------------------


def test_offline_is_one_line_naming_host_and_remedy(tmp_path: Path, files: dict) -> None:
    with pytest.raises(FetchError) as error:
        fetch_dataset("pamap2", tmp_path, url=closed_port_url())
    message = str(error.value)
    assert message.startswith("cannot reach 127.0.0.1 (connection refused)") and "--url" in message
    assert "\n" not in message


def test_http_error_status(tmp_path: Path, files: dict) -> None:
    with serve(Behaviour(b"", status=404)) as url:
        with pytest.raises(FetchError, match="127.0.0.1 answered HTTP 404 Not Found"):
            fetch_dataset("pamap2", tmp_path, url=url)


def test_silent_server_times_out(tmp_path: Path, files: dict, monkeypatch) -> None:
    monkeypatch.setattr(fetch, "TIMEOUT_S", (1.0, 0.3))
    with silent_server_url() as url:
        with pytest.raises(FetchError, match=r"cannot reach 127.0.0.1 \(no answer within 0.3 s\)"):
            fetch_dataset("pamap2", tmp_path, url=url)


def test_bad_url_is_explained(tmp_path: Path, files: dict) -> None:
    with pytest.raises(FetchError, match="invalid download address"):
        fetch_dataset("pamap2", tmp_path, url="archive.ics.uci.edu/x.zip")


# --- the command line --------------------------------------------------------------------------


def run_main(*args: str) -> subprocess.CompletedProcess:
    """Run ``python -m synth.cli ARGS`` (the real entry point with its error handling)."""
    command = [sys.executable, "-m", "synth.cli", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)


def test_cli_fetch_succeeds(tmp_path: Path, files: dict) -> None:
    with serve(Behaviour(pamap2_zip(files))) as url:
        result = CliRunner().invoke(app, ["data", "fetch", "pamap2", "--dest", str(tmp_path), "--url", url])
    assert result.exit_code == 0, result.output
    assert "pamap2 ready in" in result.output
    assert_unpacked(tmp_path / "PAMAP2_Dataset", files)


def test_cli_unknown_name_exits_2() -> None:
    result = run_main("data", "fetch", "nosuch", "--dest", "unused")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["error: unknown data set 'nosuch'; known data sets: hapt, pamap2"]


def test_cli_offline_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_main("data", "fetch", "pamap2", "--dest", str(tmp_path), "--url", closed_port_url())
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach 127.0.0.1")


def test_cli_checks_against_the_official_sizes(tmp_path: Path) -> None:
    paths = tuple(file.path for file in registry.PAMAP2.files)
    with serve(Behaviour(pamap2_zip(subject_files(paths, size=100)))) as url:
        result = run_main("data", "fetch", "pamap2", "--dest", str(tmp_path), "--url", url)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Protocol/subject101.dat: expected 141698539 bytes, got 100" in lines[0]
    assert_nothing_left(tmp_path)
