"""Test helpers: a tiny local HTTP file server with scriptable misbehaviour, and PAMAP2-shaped zips.

Nothing here touches the internet: the server listens on 127.0.0.1 on a free port, in a thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import random
import socket
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, Optional

from synth.data.registry import DatasetSpec, FileSpec

SUBJECT_PATHS = ("Protocol/subject101.dat", "Protocol/subject102.dat", "Optional/subject101.dat")


@dataclass
class Behaviour:
    """How the server answers.

    ``drop_first_at``: on the first request, send that many body bytes, then close the
    connection. ``ignore_range``: always answer 200 with the whole body. ``status``: answer
    every request with this error status instead.
    """

    body: bytes
    drop_first_at: Optional[int] = None
    ignore_range: bool = False
    status: Optional[int] = None
    requests: list[dict[str, str]] = field(default_factory=list)  # headers of each request, in order


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.behaviour.body`` at any path, honouring single ``bytes=N-`` ranges."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        """Answer one GET according to the server's Behaviour."""
        behaviour: Behaviour = self.server.behaviour  # type: ignore[attr-defined]
        behaviour.requests.append(dict(self.headers))
        if behaviour.status is not None:
            return self._send(behaviour.status, b"", {})
        start = self._range_start(behaviour)
        if start is None:
            return self._send_body(200, behaviour, 0, {})
        size = len(behaviour.body)
        if start >= size:
            return self._send(416, b"", {"Content-Range": f"bytes */{size}"})
        return self._send_body(206, behaviour, start, {"Content-Range": f"bytes {start}-{size - 1}/{size}"})

    def _range_start(self, behaviour: Behaviour) -> Optional[int]:
        """The first byte asked for by a ``Range: bytes=N-`` header, or None for the whole body."""
        value = self.headers.get("Range", "")
        if behaviour.ignore_range or not value.startswith("bytes="):
            return None
        return int(value[len("bytes="):].split("-")[0])

    def _send_body(self, status: int, behaviour: Behaviour, start: int, headers: dict[str, str]) -> None:
        """Send the body from ``start`` on, cut short on the first request when told to drop it."""
        body = behaviour.body[start:]
        first = len(behaviour.requests) == 1
        if first and behaviour.drop_first_at is not None:
            self.close_connection = True  # after the short write the socket is closed mid-body
            return self._send(status, body, headers, cut=behaviour.drop_first_at)
        return self._send(status, body, headers)

    def _send(self, status: int, body: bytes, headers: dict[str, str], cut: Optional[int] = None) -> None:
        """Send ``status`` with a Content-Length of the full ``body`` and ``body[:cut]`` as payload."""
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body[:cut])
        self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Stay quiet: test output should show only failures."""


@contextlib.contextmanager
def serve(behaviour: Behaviour) -> Iterator[str]:
    """Run a server for ``behaviour`` on 127.0.0.1 in a thread; yield its ``http://.../archive.zip`` URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.behaviour = behaviour  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/archive.zip"
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (the connection is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/archive.zip"


@contextlib.contextmanager
def silent_server_url() -> Iterator[str]:
    """A URL whose server accepts connections (kernel backlog) but never answers: a read timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/archive.zip"


def subject_files(paths: tuple[str, ...] = SUBJECT_PATHS, size: int = 200_000, seed: int = 0) -> dict[str, bytes]:
    """Tiny stand-ins for subject files: {path inside PAMAP2_Dataset: ``size`` pseudo-random bytes}."""
    rng = random.Random(seed)
    return {path: rng.randbytes(size) for path in paths}


def build_zip(members: dict[str, bytes]) -> bytes:
    """A stored (uncompressed) zip of ``members`` {member name: bytes}, so byte offsets stay simple."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def pamap2_zip(files: dict[str, bytes], nested: bool = False, root: str = "PAMAP2_Dataset/") -> bytes:
    """A zip in the PAMAP2 layout; ``nested`` wraps it in an outer zip as UCI does."""
    inner = build_zip({f"{root}{path}": data for path, data in files.items()} | {f"{root}readme.txt": b"test\n"})
    return build_zip({"PAMAP2_Dataset.zip": inner, "readme.txt": b"outer\n"}) if nested else inner


def spec_for(files: dict[str, bytes], url: str = "http://127.0.0.1:9/archive.zip") -> DatasetSpec:
    """A pamap2 registry entry whose expected sizes and sha256 are those of ``files``."""
    entries = tuple(FileSpec(path, len(data), hashlib.sha256(data).hexdigest()) for path, data in files.items())
    return DatasetSpec(name="pamap2", url=url, folder="PAMAP2_Dataset", files=entries)
