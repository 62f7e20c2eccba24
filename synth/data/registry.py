"""The table of downloadable data sets: where each lives and how a download is checked.

A data set with official digests lists every file with its size in bytes and lowercase hex
sha256, copied from the official release, so that a download is checked file by file (PAMAP2).
One without them (HAPT) is checked for its structure instead: the files the loader needs are
present and consistent, by the loader's own parsing and validation functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from posixpath import basename
from typing import Callable, Optional
from urllib.parse import urlparse

from synth.core.errors import DataError, FetchError
from synth.data import hapt


@dataclass(frozen=True)
class FileSpec:
    """One file of a data set: ``path`` inside the data folder, ``size`` in bytes, ``sha256`` hex."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class DatasetSpec:
    """A data set published as one zip archive.

    ``folder`` is the folder created under the destination (for PAMAP2 also the archive's top
    folder). A download is checked one of two ways: ``files`` lists every file that must be
    present with its official size and sha256, or ``check`` inspects the unpacked folder and
    raises FetchError; ``anchor`` (a path inside the data folder) then locates the data folder
    in the archive. ``members`` are glob patterns of the paths inside the data folder to unpack.
    """

    name: str
    url: str
    folder: str
    files: tuple[FileSpec, ...] = ()
    check: Optional[Callable[[Path], None]] = None
    anchor: str = ""
    members: tuple[str, ...] = ("*",)

    def __post_init__(self) -> None:
        if bool(self.files) == (self.check is not None) or (self.check is not None and not self.anchor):
            raise ValueError(f"data set {self.name!r}: give either files, or check and anchor")

    @property
    def archive(self) -> str:
        """File name of the official archive, e.g. ``pamap2+physical+activity+monitoring.zip``."""
        return basename(urlparse(self.url).path)

    @property
    def member_paths(self) -> tuple[str, ...]:
        """The expected member paths inside the official archive, e.g. ``PAMAP2_Dataset/Protocol/...``."""
        return tuple(f"{self.folder}/{spec.path}" for spec in self.files)

    @property
    def expected(self) -> list[str]:
        """Paths inside the data folder that locate it in an archive: every listed file, or the anchor."""
        return [spec.path for spec in self.files] or [self.anchor]


PAMAP2 = DatasetSpec(
    name="pamap2",
    url="https://archive.ics.uci.edu/static/public/231/pamap2+physical+activity+monitoring.zip",
    folder="PAMAP2_Dataset",
    files=(
        FileSpec("Protocol/subject101.dat", 141698539, "80b3fffd089c236ae88098df3b906b8d3c67a858023fe4f75045d78612147266"),
        FileSpec("Protocol/subject102.dat", 207349310, "468f3c6ba3e6e961f383783665265afbcddbbd33a3a84bba0386b7d0d4e3c632"),
        FileSpec("Protocol/subject103.dat", 117863364, "5be64631d085e3efc700728395516da3512ff9de17dab30d253508441a98d3f0"),
        FileSpec("Protocol/subject104.dat", 153227482, "7eb272213cbfe11d9e466a2163b6c9c2ed8d2542fc6f08283fd1bf222cac8994"),
        FileSpec("Protocol/subject105.dat", 173773599, "7837cfede57fe45ec20d553c6c2b0c498ab324daae23bfd202c0ffea9f71a7f6"),
        FileSpec("Protocol/subject106.dat", 168263273, "0da1dda3fa56d75d6413fc9198949d3ebc2102d77574cb5fe0739674687609f2"),
        FileSpec("Protocol/subject107.dat", 145823268, "a02195e9599eb249f79103912d27eb4f62d8a0f59e4763b0dd8250fee5f3f020"),
        FileSpec("Protocol/subject108.dat", 190019653, "81ce6b21b9c1e01dc02099c4f9387699547b08b28b387d09a56e0cb0a8af22fc"),
        FileSpec("Protocol/subject109.dat", 3891140, "5109d5cd8334769566b4ae602adf3e5f4bb7b9ee8ca678f0c481d333114b07c7"),
        FileSpec("Optional/subject101.dat", 121246257, "a8b71371406001ae563acad1d7d946ceacd0afeb51b97bfb9a9cbad95c78e52c"),
        FileSpec("Optional/subject105.dat", 72521536, "a7c4ccd8d7e8fe21abad8c111229649ec10ca9b353cc29fcc4986c2243301adc"),
        FileSpec("Optional/subject106.dat", 60905306, "50882fc519f01e8fe200a5a4373daff443e88624d7e8a2d31d759569823fb491"),
        FileSpec("Optional/subject108.dat", 85403002, "e871b2e5692867f8655b69b769e866927739aa288b9da5cc9a15dc930f154336"),
        FileSpec("Optional/subject109.dat", 90594049, "a6a8f7521d63fe80bd7f203c5ee1256a2bc8b3772f028ae767256ec1d6a93930"),
    ),
)


def check_hapt(folder: Path) -> None:
    """FetchError unless ``folder`` (DEST/uci_hapt or its staging copy) holds a HAPT RawData/
    that ``synth.data.hapt.load_hapt`` accepts: see ``hapt.check_layout``."""
    try:
        hapt.check_layout(folder / hapt.RAW_DATA)
    except DataError as exc:
        # the staging folder is temporary: name the files by their path inside the data set
        raise FetchError(f"not a usable HAPT download: {str(exc).replace(f'{folder}/', '')}") from None


# No official digests: the download is checked by check_hapt. Only what load_hapt reads is
# unpacked (RawData/acc_*.txt and labels.txt, about 50 MB); the gyroscope files, the
# precomputed features (Train/, Test/) and the READMEs are left in the archive.
HAPT = DatasetSpec(
    name="hapt",
    url="https://archive.ics.uci.edu/static/public/341/smartphone+based+recognition+of+human+activities+and+postural+transitions.zip",
    folder="uci_hapt",
    check=check_hapt,
    anchor=f"{hapt.RAW_DATA}/{hapt.LABELS_FILE}",
    members=(f"{hapt.RAW_DATA}/acc_*.txt", f"{hapt.RAW_DATA}/{hapt.LABELS_FILE}"),
)

DATASETS: dict[str, DatasetSpec] = {PAMAP2.name: PAMAP2, HAPT.name: HAPT}


def get_dataset(name: str) -> DatasetSpec:
    """Return the registry entry for ``name`` (case-insensitive) or raise FetchError listing the known names."""
    spec = DATASETS.get(name.strip().lower())
    if spec is None:
        known = ", ".join(sorted(DATASETS))
        raise FetchError(f"unknown data set {name!r}; known data sets: {known}")
    return spec
