"""PDF documents through pdfium (pypdfium2, Apache-2.0/BSD), each page rendered at the size the
largest thumbnail needs, never at print resolution.

pdfium runs in a process of its own (``pdf_renderer``), one per document, under an address-space
limit: it aborts the process it runs in when an allocation fails, which a content stream that
inflates to a gigabyte makes it do, and such a file must fail as a file, not take the thumbnail
function down. The page count comes from the page tree, so a document of 100 000 pages costs
no more to open than one of ten; only the pages the spec asks for are rendered.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from PIL import Image

from lightbox.domain import ImageInfo, RenderSpec
from lightbox.errors import ImageError
from lightbox.imaging.source import DecodedPage

_RENDERER = Path(__file__).with_name("pdf_renderer.py")
# The renderer's address space: pdfium with one page's bitmap and its images streamed needs a
# small part of this; a bomb meets the limit long before the function's memory does.
RENDERER_ADDRESS_SPACE = 1024**3
# For opening the document, then for each page: a page that takes longer is an attack.
RENDERER_TIMEOUT_SECONDS = 60


class PdfSource:
    def __init__(self, path: Path, spec: RenderSpec) -> None:
        self._spec = spec
        # pdfium is not thread-safe. Each document gets a renderer process of its own, and the
        # thumbnail worker renders one job at a time per process besides.
        self._process = subprocess.Popen(
            [sys.executable, str(_RENDERER), str(path), str(RENDERER_ADDRESS_SPACE)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        try:
            header, _ = self._answer("the PDF")
            width, height = header["width"], header["height"]
            self.info = ImageInfo(
                # Points are pixels at 72 dpi: the size the page is shown at, at 100 %.
                width=max(1, round(width)),
                height=max(1, round(height)),
                pages=int(header["pages"]),
                bit_depth=8,
                color_mode="RGB",
                taken_at=pdf_date(header.get("created")),
            )
        except BaseException:
            self.close()
            raise

    def decode(self, index: int, target: int) -> DecodedPage:
        assert self._process.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # the renderer stopped: _answer says why
            self._process.stdin.write(f"{index} {target}\n".encode())
            self._process.stdin.flush()
        header, pixels = self._answer(f"page {index + 1} of the PDF", bitmap=True)
        image = Image.frombytes("RGB", (header["width"], header["height"]), pixels)
        return DecodedPage(image, None, 1)

    def close(self) -> None:
        if self._process.stdin is not None and not self._process.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()

    def _answer(self, subject: str, *, bitmap: bool = False) -> tuple[dict[str, Any], bytes]:
        """The renderer's next answer (with the bitmap that follows it), or an ImageError
        saying what became of ``subject``."""
        stdout = self._process.stdout
        assert stdout is not None
        timer = threading.Timer(RENDERER_TIMEOUT_SECONDS, self._process.kill)
        timer.start()
        try:
            line = stdout.readline()
            header: dict[str, Any] = json.loads(line) if line.endswith(b"\n") else {}
            expected = header["width"] * header["height"] * 3 if bitmap and header else 0
            pixels = _read(stdout, expected) if "error" not in header else b""
        finally:
            timer.cancel()
        if header.get("error") == "encrypted":
            raise ImageError("the PDF is encrypted: it opens only with a password")
        if "error" in header:
            raise ImageError(f"{subject} is corrupt or truncated: pdfium cannot read it "
                             f"({header.get('detail') or 'no detail'})")
        if not header or len(pixels) != expected:
            raise ImageError(self._stopped(subject))
        return header, pixels

    def _stopped(self, subject: str) -> str:
        try:
            code = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            code = self._process.wait()
        if code == -signal.SIGKILL:
            return (f"{subject} could not be rendered: it took longer than "
                    f"{RENDERER_TIMEOUT_SECONDS} s, or more memory than there is")
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        return (f"{subject} could not be rendered: pdfium stopped ({how}), as it does when a "
                f"page needs more than {RENDERER_ADDRESS_SPACE // 2**20:,} MB or its data is "
                "corrupt")


def _read(stream: IO[bytes], size: int) -> bytes:
    parts = []
    while size:
        part = stream.read(size)
        if not part:
            break
        parts.append(part)
        size -= len(part)
    return b"".join(parts)


def pdf_date(value: object) -> datetime | None:
    """A PDF date ("D:20260714183005+02'00'") as the wall-clock time it names, as EXIF's."""
    if not isinstance(value, str):
        return None
    digits = re.match(r"(?:D:)?(\d{8,14})", value.strip())
    if digits is None:
        return None
    text = digits.group(1)[: len(digits.group(1)) // 2 * 2]  # whole fields only
    try:
        return datetime.strptime(text.ljust(14, "0"), "%Y%m%d%H%M%S")
    except ValueError:
        return None
