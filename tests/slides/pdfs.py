"""PDFs for the slides tests, made here: pypdfium2's own documents, and hand-written bytes for
what it cannot make (an encrypted file)."""

import io

import pypdfium2 as pdfium


def deck(pages: int, width: float = 720, height: float = 405) -> bytes:
    """A PDF of `pages` blank pages (16:9 by default)."""
    document = pdfium.PdfDocument.new()
    for _ in range(pages):
        document.new_page(width, height)
    out = io.BytesIO()
    document.save(out)
    document.close()
    return out.getvalue()


def written(objects: list[bytes], trailer: bytes) -> bytes:
    """A PDF from its numbered objects (1, 2, ...) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


def encrypted() -> bytes:
    """A one-page PDF under the standard security handler whose user password is not empty: no
    reader opens it without the password."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 720 405] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> /P -4 >>",
    ]
    file_id = b"<00112233445566778899aabbccddeeff>"
    return written(objects, b"/Root 1 0 R /Encrypt 4 0 R /ID [%s %s]" % (file_id, file_id))
