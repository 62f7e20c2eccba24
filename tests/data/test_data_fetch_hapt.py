"""``synth data fetch hapt``: no official digests, so the download is checked for its structure.

Zips of the HAPT fixture (tests/data/hapt_fixtures.py) are served from 127.0.0.1 by http_fixtures.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synth.cli import app
from synth.data import fetch, registry
from synth.data.fetch import fetch_dataset
from synth.data.hapt import load_hapt
from synth.core.errors import FetchError
from hapt_fixtures import EXTRAS, LABELS, hapt_files
from http_fixtures import Behaviour, build_zip, serve

REPO = Path(__file__).resolve().parents[2]
PART = ".downloads/archive.zip.part"
UNPACKED = ("RawData/acc_exp01_user01.txt", "RawData/acc_exp02_user02.txt", "RawData/labels.txt")


def hapt_zip(files: dict[str, bytes], root: str = "", nested: bool = False) -> bytes:
    """A zip of ``files`` under the top folder ``root`` ("" = at the archive's root); ``nested``
    wraps it in an outer zip."""
    inner = build_zip({f"{root}{path}": data for path, data in files.items()})
    return build_zip({"HAPT Data Set.zip": inner, "readme.txt": b"outer\n"}) if nested else inner


def assert_unpacked(folder: Path, files: dict[str, bytes]) -> None:
    """``folder`` is DEST/uci_hapt holding exactly the accelerometer files and labels.txt, byte for byte."""
    assert folder.name == "uci_hapt"
    assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) == sorted(UNPACKED)
    for path in UNPACKED:
        assert (folder / path).read_bytes() == files[path]


def assert_nothing_left(dest: Path) -> None:
    """No data folder, no half-built staging folder and no kept archive under ``dest``."""
    assert not (dest / "uci_hapt").exists()
    assert not [p for p in dest.iterdir() if p.name.startswith(".uci_hapt")]
    assert not (dest / ".downloads/archive.zip").exists()


def test_registry_entry_is_checked_by_structure() -> None:
    spec = registry.get_dataset("HAPT")
    assert spec.url == "https://archive.ics.uci.edu/static/public/341/smartphone+based+recognition+of+human+activities+and+postural+transitions.zip"
    assert spec.folder == "uci_hapt" and spec.files == () and spec.expected == ["RawData/labels.txt"]


@pytest.mark.parametrize(
    "root, nested", [("", False), ("HAPT Data Set/", False), ("", True)], ids=["at-root", "top-folder", "nested-zip"]
)
def test_fetch_unpacks_only_what_the_loader_reads(tmp_path: Path, root: str, nested: bool) -> None:
    files = hapt_files()
    with serve(Behaviour(hapt_zip(files, root, nested))) as url:
        folder = fetch_dataset("hapt", tmp_path, url=url)
    assert folder == tmp_path / "uci_hapt"
    assert_unpacked(folder, files)  # no gyro file, no README
    assert not (tmp_path / ".downloads").exists()
    assert load_hapt(folder, 50.0, 10).class_counts() == {"stationary": 43, "walking": 40}


def test_rerun_is_a_no_op_and_damage_is_repaired(tmp_path: Path) -> None:
    files = hapt_files()
    behaviour = Behaviour(hapt_zip(files))
    with serve(behaviour) as url:
        folder = fetch_dataset("hapt", tmp_path, url=url)
        fetch_dataset("hapt", tmp_path, url=url)
        assert len(behaviour.requests) == 1  # the checked folder was reused
        (folder / "RawData/acc_exp02_user02.txt").write_text("0.1 0.2 0.98\n")  # too short for its segments
        fetch_dataset("hapt", tmp_path, url=url)
    assert len(behaviour.requests) == 2
    assert_unpacked(folder, files)


def test_broken_transfer_resumes_on_the_next_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch, "ATTEMPTS", 1)
    files = hapt_files()
    # a gyroscope file (in the archive, never unpacked) makes the break come after some network chunks
    body = hapt_zip(files | {"RawData/gyro_exp02_user02.txt": b"0.1 0.2 0.3\n" * 40_000})
    behaviour = Behaviour(body, drop_first_at=len(body) // 2)
    with serve(behaviour) as url:
        with pytest.raises(FetchError, match="broke off.*run the same command again to resume"):
            fetch_dataset("hapt", tmp_path, url=url)
        kept = (tmp_path / PART).stat().st_size
        assert kept > 0 and not (tmp_path / "uci_hapt").exists()
        assert_unpacked(fetch_dataset("hapt", tmp_path, url=url), files)
    assert behaviour.requests[1]["Range"] == f"bytes={kept}-"


def broken(labels: list[str]) -> dict[str, bytes]:
    """The fixture with labels.txt holding ``labels``."""
    return hapt_files(labels)


@pytest.mark.parametrize(
    "files, message",
    [
        ({path: data for path, data in hapt_files().items() if not path.endswith("labels.txt")}, "the archive lacks RawData/labels.txt"),
        (broken([*LABELS[:2], "1 1 4 261 601"]), "not a usable HAPT download: RawData/labels.txt line 3: segment end 601 is past the end of acc_exp01_user01.txt, which holds 600 samples"),
        (broken([*LABELS, "3 3 1 1 10"]), "not a usable HAPT download: RawData/labels.txt line 6: experiment file acc_exp03_user03.txt is missing"),
        (broken(["1 1 4 261"]), "not a usable HAPT download: RawData/labels.txt line 1: expected 5 integers"),
        (EXTRAS | {"RawData/labels.txt": b"1 1 1 1 10\n"}, "not a usable HAPT download: no acc_exp*_user*.txt files"),
    ],
    ids=["no-labels", "segment-past-end", "missing-experiment", "bad-labels-line", "no-acc-file"],
)
def test_bad_structure_is_refused_in_one_line_leaving_nothing(tmp_path: Path, files: dict, message: str) -> None:
    with serve(Behaviour(hapt_zip(files, root="HAPT Data Set/"))) as url:
        with pytest.raises(FetchError) as error:
            fetch_dataset("hapt", tmp_path, url=url)
    assert message in str(error.value) and "the download was deleted" in str(error.value)
    assert "\n" not in str(error.value) and ".part" not in str(error.value)  # names no temporary folder
    assert_nothing_left(tmp_path)


def test_cli_fetch_names_both_data_sets_and_succeeds(tmp_path: Path) -> None:
    assert "(pamap2 or hapt)" in CliRunner().invoke(app, ["data", "fetch", "--help"]).output
    with serve(Behaviour(hapt_zip(hapt_files()))) as url:
        result = CliRunner().invoke(app, ["data", "fetch", "hapt", "--dest", str(tmp_path), "--url", url])
    assert result.exit_code == 0, result.output
    assert "hapt ready in" in result.output


def test_cli_bad_download_exits_2_with_one_line(tmp_path: Path) -> None:
    with serve(Behaviour(hapt_zip(broken([*LABELS[:2], "1 1 4 261 601"])))) as url:
        command = [sys.executable, "-m", "synth.cli", "data", "fetch", "hapt", "--dest", str(tmp_path), "--url", url]
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: not a usable HAPT download: RawData/labels.txt line 3")
    assert_nothing_left(tmp_path)
