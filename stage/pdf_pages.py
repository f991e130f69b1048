"""A PDF deck's pages as images: checked before anything is kept, then rendered page by page.

No Django: pypdfium2 (PDFium) reads and renders, PyAV encodes. Three sizes a page: the viewer's
(WebP, small enough for thousands of viewers at once), a thumbnail (WebP) for the console's strip
and the green room, and a high-resolution PNG for download (lossless: slide text stays sharp when
printed or zoomed, and every tool opens it).
"""

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pypdfium2 as pdfium

PDF_MAGIC = b"%PDF-"
# Widths in pixels: the viewer's, the thumbnail's and the download's.
VIEW_WIDTH, THUMB_WIDTH, FULL_WIDTH = 1280, 320, 2560
VIEW, THUMB, FULL = "view.webp", "thumb.webp", "full.png"
DECK_PDF = "deck.pdf"


class DeckRefused(Exception):
    """A file that will not be rendered, and why, in words for the person who uploaded it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def rendered_size(width_pt: float, height_pt: float, width_px: int) -> tuple[int, int]:
    """The pixel size of a page of `width_pt` × `height_pt` points rendered `width_px` wide."""
    return width_px, max(1, round(height_pt * width_px / width_pt))


def check(data: bytes, *, max_pages: int, max_pixels: int) -> int:
    """The number of pages of a PDF that may be rendered; else DeckRefused saying why."""
    if not data.startswith(PDF_MAGIC):
        raise DeckRefused("This is not a PDF file.")
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            raise DeckRefused("This PDF is encrypted: upload it without a password.") from None
        raise DeckRefused("This PDF cannot be read.") from None
    try:
        pages = len(document)
        if pages == 0:
            raise DeckRefused("This PDF has no pages.")
        if pages > max_pages:
            raise DeckRefused(f"This PDF has {pages} pages; a deck has at most {max_pages}.")
        for index in range(pages):
            width_pt, height_pt = document.get_page_size(index)
            if width_pt < 1 or height_pt < 1:
                raise DeckRefused(f"Page {index + 1} has no area.")
            width, height = rendered_size(width_pt, height_pt, FULL_WIDTH)
            if width * height > max_pixels:
                raise DeckRefused(f"Page {index + 1} is too large to render (a page at most {max_pixels} pixels).")
    finally:
        document.close()
    return pages


def render(pdf: Path, folder: Path, on_page: Callable[[int], None]) -> None:
    """Render every page of a checked PDF into `folder` as `<page>.<size>`; `on_page(done)` after each."""
    document = pdfium.PdfDocument(pdf)
    try:
        for index in range(len(document)):
            page = document[index]
            width_pt, _ = page.get_size()
            image = page.render(scale=FULL_WIDTH / width_pt).to_numpy()
            page.close()
            number = index + 1
            (folder / f"{number}.{FULL}").write_bytes(_encode(image, "png", "rgb24"))
            for width, name in ((VIEW_WIDTH, VIEW), (THUMB_WIDTH, THUMB)):
                smaller = page_of(document, index, width)
                (folder / f"{number}.{name}").write_bytes(_encode(smaller, "libwebp", "yuv420p"))
            on_page(number)
    finally:
        document.close()


def page_of(document: pdfium.PdfDocument, index: int, width: int) -> np.ndarray:
    """A page rendered `width` pixels wide, as rows of BGR pixels."""
    page = document[index]
    try:
        return page.render(scale=width / page.get_size()[0]).to_numpy()
    finally:
        page.close()


def _encode(bgr: np.ndarray, codec: str, pix_fmt: str) -> bytes:
    """One image in one codec; odd sizes are trimmed by a pixel for the chroma subsampling."""
    if pix_fmt == "yuv420p":
        bgr = bgr[: bgr.shape[0] // 2 * 2, : bgr.shape[1] // 2 * 2]
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(bgr[:, :, :3]), format="bgr24").reformat(format=pix_fmt)
    context = av.CodecContext.create(codec, "w")
    context.width, context.height, context.pix_fmt = frame.width, frame.height, pix_fmt
    if codec == "libwebp":
        context.options = {"quality": "82"}
    packets = context.encode(frame) + context.encode(None)
    return b"".join(bytes(packet) for packet in packets)
