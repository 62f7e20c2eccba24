"""Download a registered data set, verify it, and put it in place.

Flow: stream the archive into ``DEST/.downloads/<archive>.part`` (resuming with HTTP Range),
rename it to ``<archive>`` when complete, unpack the registry's members into a temporary
sibling of the data folder while hashing each file, verify the result, and only then rename the
folder into place. Verifying means: every file's official size and sha256 where the registry
lists them (PAMAP2), else the registry's structure check of the unpacked folder (HAPT, which
publishes no digests). Anything that goes wrong is a FetchError with one line saying what to do.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import logging
import os
import re
import sys
import tempfile
import zipfile
import zlib
from collections import deque
from pathlib import Path, PurePosixPath
from posixpath import basename
from typing import Iterator, Optional
from urllib.parse import urlparse

import requests
from tqdm import tqdm

from synth.core.atomic import build_directory
from synth.core.errors import FetchError, OutputError
from synth.data.registry import DatasetSpec, FileSpec, get_dataset

CHUNK_BYTES = 1 << 20  # 1 MiB: bounded memory while unpacking and hashing files of up to 207 MB
# A read that breaks off loses its partly filled chunk (urllib3 fills whole chunks), so network
# chunks stay small: a resume re-fetches at most this much.
NET_CHUNK_BYTES = 64 << 10
TIMEOUT_S = (10.0, 60.0)  # (connect, read between bytes) in seconds
ATTEMPTS = 3  # transfers per call; a broken stream is resumed from where it stopped
DOWNLOADS_DIR = ".downloads"
MIRROR_HINT = "check the network or pass --url to a mirror"

Digest = tuple[int, str]  # (size in bytes, sha256 hex) of one unpacked file

log = logging.getLogger(__name__)

_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)")


class _Interrupted(Exception):
    """A transfer that started but broke off; the ``.part`` file keeps what arrived."""

    def __init__(self, done: int, total: Optional[int], reason: str) -> None:
        super().__init__(f"after {done} of {total if total is not None else '?'} bytes ({reason})")


def fetch_dataset(name: str, dest: str | Path, url: Optional[str] = None, progress: Optional[bool] = None) -> Path:
    """Download, verify and unpack data set ``name`` under ``dest``; return its data folder.

    The folder (e.g. ``DEST/PAMAP2_Dataset`` holding ``Protocol/``, ``DEST/uci_hapt`` holding
    ``RawData/``) appears only once it passes the registry's checks. If it already exists and
    passes the quick check (file sizes, or the structure check), nothing is downloaded. ``url``
    overrides the official address (a mirror); ``progress`` forces the progress bar on or off
    (default: shown only on a terminal).
    """
    spec = get_dataset(name)
    dest = Path(dest)
    folder = dest / spec.folder
    if _intact(folder, spec):
        return folder
    downloads = dest / DOWNLOADS_DIR
    archive = download(url or spec.url, downloads / _archive_name(url, spec), progress=progress)
    _install(archive, spec, folder, downloads)
    _discard(archive)  # the verified files are in place; the archive (about 650 MB) is not needed
    return folder


def download(url: str, target: Path, progress: Optional[bool] = None, attempts: Optional[int] = None) -> Path:
    """Download ``url`` to ``target`` through ``target.part``, resuming a partial file; return ``target``.

    An existing ``target`` counts as complete. A stream that breaks off is resumed with an HTTP
    Range request, ``attempts`` (default ATTEMPTS) transfers in all; after that the ``.part``
    file stays so that the next run continues from it.
    """
    if target.is_file():
        return target
    part = target.with_name(target.name + ".part")
    created = [folder for folder in (part.parent, *part.parent.parents) if not folder.exists()]  # deepest first
    _make_dir(part.parent)
    try:
        return _download_attempts(url, part, target, progress, attempts or ATTEMPTS)
    except BaseException:
        if part.exists() and part.stat().st_size == 0:
            part.unlink()
        if not part.exists():  # nothing to resume from: leave no empty folders behind
            for folder in created:
                with contextlib.suppress(OSError):
                    folder.rmdir()
        raise


def _download_attempts(url: str, part: Path, target: Path, progress: Optional[bool], attempts: int) -> Path:
    """Transfer into ``part`` (resuming) up to ``attempts`` times, then rename it to ``target``."""
    failure: Optional[_Interrupted] = None
    for _ in range(attempts):
        try:
            _transfer(url, part, progress)
        except _Interrupted as exc:
            failure = exc
            continue
        os.replace(part, target)
        return target
    raise FetchError(f"download from {_host(url)} broke off {failure}; run the same command again to resume")


def unpack(
    archive: Path, staging: Path, expected: list[str], scratch: Path, members: tuple[str, ...] = ("*",)
) -> dict[str, Digest]:
    """Unpack the data folder of zip ``archive`` into ``staging``; return {relative path: (bytes, sha256)}.

    The data folder is the one holding the ``expected`` paths (e.g. ``Protocol/subject101.dat``),
    at the archive's root or under a top folder. Only its files whose relative path matches one
    of the ``members`` glob patterns are unpacked. An archive that holds them only inside a nested
    zip (the UCI archive may wrap ``PAMAP2_Dataset.zip``) is unpacked through a temporary copy in ``scratch``.
    """
    with _open_zip(archive) as outer:
        nested = _nested_zip(outer, expected)
        if nested is None:
            return _extract(outer, staging, expected, members)
        with _spill(outer, nested, scratch) as copy, _open_zip(copy) as inner:
            return _extract(inner, staging, expected, members)


def verify(digests: dict[str, Digest], files: tuple[FileSpec, ...]) -> None:
    """Raise FetchError unless every file in ``files`` is in ``digests`` with its official size and sha256."""
    missing = [spec.path for spec in files if spec.path not in digests]
    if missing:
        raise FetchError(f"the archive lacks {len(missing)} expected file(s): {', '.join(missing)}")
    for spec in files:
        size, sha256 = digests[spec.path]
        if size != spec.size:
            raise FetchError(f"{spec.path}: expected {spec.size} bytes, got {size}")
        if sha256 != spec.sha256:
            raise FetchError(f"{spec.path}: expected sha256 {spec.sha256}, got {sha256}")


# --- the data folder ---------------------------------------------------------------------------


def _intact(folder: Path, spec: DatasetSpec) -> bool:
    """True if ``folder`` holds every file with its official size (a quick check: no hashing), or
    passes the structure check of a data set without digests."""
    if not folder.is_dir():
        return False
    if spec.check is not None:
        try:
            spec.check(folder)
        except FetchError as exc:
            log.warning("%s is damaged (%s); fetching the data set again", folder, exc)
            return False
        return True
    for file in spec.files:
        path = folder / file.path
        if not path.is_file() or path.stat().st_size != file.size:
            log.warning("%s is missing or damaged; fetching the data set again", path)
            return False
    return True


def _install(archive: Path, spec: DatasetSpec, folder: Path, scratch: Path) -> None:
    """Unpack and verify ``archive`` in a temporary sibling of ``folder``, renamed into place on success."""
    try:
        with build_directory(folder, force=True) as staging:
            _verify(spec, staging, unpack(archive, staging, spec.expected, scratch, spec.members))
    except FetchError as exc:
        # A corrupt or wrong archive must not be reused: the next run downloads it afresh.
        archive.unlink(missing_ok=True)
        raise FetchError(f"{exc} (the download was deleted; run again to fetch it afresh)") from None


def _verify(spec: DatasetSpec, staging: Path, digests: dict[str, Digest]) -> None:
    """Raise FetchError unless the unpacked ``staging`` folder passes ``spec``'s checks: the
    official files' sizes and sha256, or the anchor file and the structure check."""
    if spec.check is None:
        verify(digests, spec.files)
    elif spec.anchor not in digests:
        raise FetchError(f"the archive lacks {spec.anchor}")
    else:
        spec.check(staging)


def _archive_name(url: Optional[str], spec: DatasetSpec) -> str:
    """File name for the download: the last part of ``url``'s path, else the official archive's name."""
    name = basename(urlparse(url).path) if url else ""
    return name if name not in ("", ".", "..") else spec.archive


def _discard(archive: Path) -> None:
    """Delete ``archive`` and its downloads folder if that is now empty."""
    archive.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        archive.parent.rmdir()


def _make_dir(path: Path) -> None:
    """Create directory ``path`` (and parents) or raise OutputError saying why not."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create directory {path}: {exc.strerror}") from None


# --- HTTP --------------------------------------------------------------------------------------


def _transfer(url: str, part: Path, progress: Optional[bool]) -> None:
    """Fetch the bytes that ``part`` still lacks; raise _Interrupted if the stream breaks off."""
    offset = part.stat().st_size if part.exists() else 0
    with _request(url, offset) as response:
        start, total = _resume_point(response, offset)
        if start is None:  # the server cannot continue our partial file: start again from byte 0
            part.unlink()
            return _transfer(url, part, progress)
        if total is not None and start >= total:  # 416: the partial file is already complete
            return None
        _stream(response, part, start, total, progress)
    return None


def _request(url: str, offset: int) -> requests.Response:
    """GET ``url`` from byte ``offset`` on; raise FetchError if the host is unreachable or refuses."""
    # Byte offsets must count file bytes, not a compressed transfer encoding.
    headers = {"Accept-Encoding": "identity", "User-Agent": "synth-data-fetch"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = requests.get(url, headers=headers, stream=True, timeout=TIMEOUT_S)
    except requests.RequestException as exc:
        raise FetchError(_unreachable(url, exc)) from None
    if response.status_code >= 400 and not (response.status_code == 416 and offset):
        response.close()
        status = f"HTTP {response.status_code} {response.reason or ''}".strip()
        raise FetchError(f"{_host(url)} answered {status} for {url}; {MIRROR_HINT}")
    return response


def _resume_point(response: requests.Response, offset: int) -> tuple[Optional[int], Optional[int]]:
    """Return (file offset where the body starts, file size in bytes) for a response to a request from ``offset``.

    The start is None when the answer cannot continue the partial file (range from elsewhere,
    or 416 for a file of another size); a size is None when the server does not say.
    """
    if response.status_code == 206:
        first, total = _content_range(response.headers.get("Content-Range", ""))
        return (first if first == offset else None), total
    if response.status_code == 416:
        _, total = _content_range(response.headers.get("Content-Range", ""))
        return (offset if total == offset else None), total
    # 200: the whole file from byte 0, also when the server ignored our Range header.
    length = response.headers.get("Content-Length", "")
    return 0, int(length) if length.isdigit() else None


def _content_range(value: str) -> tuple[Optional[int], Optional[int]]:
    """Parse ``bytes FIRST-LAST/TOTAL`` or ``bytes */TOTAL`` into (first, total); None where absent."""
    match = _CONTENT_RANGE.match(value.strip())
    if match is None:
        return None, None
    first = int(match[1]) if match[1] else None
    return first, int(match[2]) if match[2].isdigit() else None


def _stream(
    response: requests.Response, part: Path, start: int, total: Optional[int], progress: Optional[bool]
) -> None:
    """Write the body into ``part`` from byte ``start`` on; raise _Interrupted if it stops short of ``total``."""
    with open(part, "r+b" if start else "wb") as sink, _progress_bar(start, total, progress) as bar:
        sink.truncate(start)
        sink.seek(start)
        try:
            for chunk in response.iter_content(NET_CHUNK_BYTES):
                bar.update(sink.write(chunk))
        except requests.RequestException as exc:  # first: requests' errors are OSErrors too
            raise _Interrupted(sink.tell(), total, _reason(exc)) from None  # what arrived stays in part
        except OSError as exc:
            raise OutputError(f"cannot write {part}: {exc.strerror}") from None
        done = sink.tell()
    if total is not None and done < total:
        raise _Interrupted(done, total, "connection closed early")


def _progress_bar(start: int, total: Optional[int], progress: Optional[bool]) -> tqdm:
    """A byte progress bar on stderr starting at ``start``; ``progress`` None means only on a terminal."""
    return tqdm(
        total=total, initial=start, unit="B", unit_scale=True, unit_divisor=1024,
        desc="download", file=sys.stderr, disable=None if progress is None else not progress,
    )


def _host(url: str) -> str:
    """The host name of ``url`` (the whole ``url`` if it has none)."""
    return urlparse(url).hostname or url


def _unreachable(url: str, exc: requests.RequestException) -> str:
    """One line saying that ``url`` could not be fetched, why, and what to do."""
    invalid = (requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema, requests.exceptions.InvalidURL)
    if isinstance(exc, invalid):
        return f"invalid download address {url!r}; pass a full http:// or https:// URL"
    return f"cannot reach {_host(url)} ({_reason(exc)}); {MIRROR_HINT}"


def _reason(exc: BaseException) -> str:
    """A short cause for a network error, e.g. ``connection refused`` or ``no answer within 60 s``."""
    if isinstance(exc, requests.Timeout):
        seconds = TIMEOUT_S[0] if isinstance(exc, requests.ConnectTimeout) else TIMEOUT_S[1]
        return f"no answer within {seconds:g} s"
    cause = _os_cause(exc)
    if cause is not None:
        return cause.strerror.lower()
    return "connection broken" if isinstance(exc, requests.exceptions.ChunkedEncodingError) else type(exc).__name__


def _os_cause(exc: BaseException) -> Optional[OSError]:
    """The first OSError with an operating-system message among the causes wrapped inside ``exc``."""
    queue, seen = deque([exc]), set()
    while queue:
        error = queue.popleft()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, OSError) and error.strerror:
            return error
        links = (error.__cause__, error.__context__, getattr(error, "reason", None), *error.args)
        queue.extend(link for link in links if isinstance(link, BaseException))
    return None


# --- zip ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def _open_zip(path: Path) -> Iterator[zipfile.ZipFile]:
    """Open zip ``path``; a corrupt archive (also one found while reading inside the block) is a FetchError."""
    try:
        with zipfile.ZipFile(path) as archive:
            yield archive
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise FetchError(f"{path.name} is not a valid zip archive ({exc})") from None


def _data_root(archive: zipfile.ZipFile, expected: list[str]) -> Optional[str]:
    """The member-name prefix of the data folder, e.g. ``PAMAP2_Dataset/``; None if no expected file is there."""
    for name in archive.namelist():
        for path in expected:
            if name == path or name.endswith("/" + path):
                return name[: len(name) - len(path)]
    return None


def _nested_zip(archive: zipfile.ZipFile, expected: list[str]) -> Optional[str]:
    """The name of a zip member to unpack instead, when ``archive`` holds no expected file itself."""
    if _data_root(archive, expected) is not None:
        return None
    return next((name for name in archive.namelist() if name.lower().endswith(".zip")), None)


@contextlib.contextmanager
def _spill(archive: zipfile.ZipFile, member: str, scratch: Path) -> Iterator[Path]:
    """Copy zip ``member`` to a temporary file in ``scratch`` (zipfile needs a seekable file); delete it after."""
    handle, name = tempfile.mkstemp(prefix=".nested.", suffix=".zip", dir=scratch)
    os.close(handle)
    try:
        _copy_member(archive, archive.getinfo(member), Path(name))
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _extract(
    archive: zipfile.ZipFile, staging: Path, expected: list[str], members: tuple[str, ...]
) -> dict[str, Digest]:
    """Copy the files of the data folder in ``archive`` that match a ``members`` pattern into
    ``staging``; return {relative path: digest}."""
    root = _data_root(archive, expected) or ""
    digests: dict[str, Digest] = {}
    for info in archive.infolist():
        relative = _relative_path(info.filename, root)
        if relative is not None and any(fnmatch.fnmatchcase(relative, pattern) for pattern in members):
            digests[relative] = _copy_member(archive, info, staging / relative)
    return digests


def _relative_path(name: str, root: str) -> Optional[str]:
    """Path of member ``name`` inside the data folder ``root``; None for directories and other folders.

    A member that would land outside the data folder (absolute, ``..``) is a FetchError:
    the archive is not what it claims to be.
    """
    name = name.replace("\\", "/")
    if not name.startswith(root) or name.endswith("/"):
        return None
    relative = PurePosixPath(name[len(root):])
    if relative.is_absolute() or ".." in relative.parts or ":" in relative.parts[0]:
        raise FetchError(f"archive member {name!r} points outside the data folder; refusing to unpack it")
    return relative.as_posix()


def _copy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> Digest:
    """Copy one member to ``target`` in chunks while hashing it; return (bytes, sha256 hex)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with archive.open(info) as source, open(target, "wb") as sink:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
            sink.write(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
