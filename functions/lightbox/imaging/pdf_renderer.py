"""The PDF renderer's own process: pdfium opens one document and renders its pages on request.

Run by ``pdf_source`` as a script, never imported by the functions. pdfium stops the whole
process (abort) when an allocation fails, as a zip-bomb content stream makes it do: here that
ends this process, under an address-space limit, and the thumbnail function reports the
document as failed instead of dying with it. This file imports nothing of Lightbox, so that it
starts with pypdfium2 alone.

Protocol, over stdin and stdout: first one line of JSON describing the document (or an error);
then for each request line ``index target``, one line of JSON with the bitmap's width and
height followed by width × height × 3 bytes of RGB (or a line with an error).
"""

from __future__ import annotations

import json
import math
import re
import resource
import sys
from typing import Any, BinaryIO

# pdfium's own code: the reason it gives when a document cannot be opened.
_PASSWORD_ERROR = 4


def main(path: str, address_space: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = min(address_space, hard) if hard != resource.RLIM_INFINITY else address_space
    if soft == resource.RLIM_INFINITY or soft > limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    import pypdfium2 as pdfium

    out = sys.stdout.buffer
    try:
        document = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        kind = "encrypted" if exc.err_code == _PASSWORD_ERROR else "corrupt"
        # "Failed to load document (PDFium: Data format error).": pdfium's reason is the news.
        reason = re.search(r"PDFium: ([^)]+)", str(exc))
        _send(out, {"error": kind, "detail": reason.group(1).lower() if reason else str(exc)})
        return
    try:
        pages = len(document)  # the page tree's leaves counted, not a page parsed
        first = _size(document.get_page_size(0))
        _send(out, {"pages": pages, "width": first[0], "height": first[1],
                    "created": document.get_metadata_value("CreationDate")})
        for line in sys.stdin:
            index, target = (int(field) for field in line.split())
            _render(out, document, index, target)
    except (pdfium.PdfiumError, ValueError) as exc:
        _send(out, {"error": "corrupt", "detail": str(exc)})


def _size(size: tuple[float, float]) -> tuple[float, float]:
    """A page's displayed size in points, after /Rotate; refused when it is no size at all."""
    width, height = size
    if not (math.isfinite(width) and math.isfinite(height) and width > 0 and height > 0):
        raise ValueError(f"a page is {width}×{height} points: it has no area")
    return width, height


def _render(out: BinaryIO, document: Any, index: int, target: int) -> None:
    page = document[index]
    try:
        width, height = _size(page.get_size())
        # The scale comes from the target, whatever the page claims: a 14400-inch page costs
        # the same bitmap as a letter page.
        scale = target / max(width, height)
        # pdfium turns the page as its /Rotate says; a white page under what it draws, as
        # viewers show it (a page is transparent otherwise). Forms are not initialised: their
        # scripts never run.
        bitmap = page.render(scale=scale, fill_color=(255, 255, 255, 255), rev_byteorder=True,
                             may_draw_forms=False)
        try:
            pixels = bytes(bitmap.buffer)
            if bitmap.stride != bitmap.width * 3:
                pixels = b"".join(
                    pixels[row * bitmap.stride:row * bitmap.stride + bitmap.width * 3]
                    for row in range(bitmap.height))
            _send(out, {"width": bitmap.width, "height": bitmap.height}, pixels)
        finally:
            bitmap.close()
    finally:
        page.close()


def _send(out: BinaryIO, header: dict[str, Any], payload: bytes = b"") -> None:
    out.write(json.dumps(header).encode() + b"\n" + payload)
    out.flush()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
