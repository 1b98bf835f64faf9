"""What a response body is: decompressed under a cap, its type checked against the bytes, its charset found.

No HTML parsing here: the charset sniff reads a `<meta charset>` or XML declaration from the first bytes with a
regular expression, as browsers' prescan does.
"""

from __future__ import annotations

import codecs
import re
import zlib
from collections.abc import Iterable, Iterator

import charset_normalizer

from extractor.errors import TooLargeError, UnsupportedTypeError

#: Declared media types we read. Anything else is refused before the body is read, except the generic binary
#: label, which servers put on everything: for that one the bytes decide.
TEXT_TYPES = frozenset(
    {
        "text/html", "application/xhtml+xml", "text/plain", "text/markdown", "text/x-markdown",
        "text/xml", "application/xml", "application/rss+xml", "application/atom+xml", "application/rdf+xml",
    }
)  # fmt: skip
SNIFFED_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})

#: Leading bytes of formats that are never article text, whatever the server claims.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"PK\x03\x04", "ZIP archive (or office document)"),
    (b"PK\x05\x06", "ZIP archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"BZh", "bzip2 archive"),
    (b"\xfd7zXZ\x00", "xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\x28\xb5\x2f\xfd", "zstd archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE document"),
    (b"\x7fELF", "executable"),
    (b"\x00asm", "WebAssembly"),
    (b"OggS", "audio/video"),
    (b"fLaC", "audio"),
    (b"\x1a\x45\xdf\xa3", "video"),
    (b"wOFF", "font"),
    (b"wOF2", "font"),
)
_RIFF = re.compile(rb"^RIFF....(WEBP|WAVE|AVI )", re.DOTALL)
_FTYP = re.compile(rb"^....ftyp", re.DOTALL)  # MP4, MOV, HEIC, AVIF
SNIFF_BYTES = 1024


def media_type(content_type: str | None) -> tuple[str, str | None]:
    """(`type/subtype` lowercased, charset parameter or None) from a Content-Type header."""
    if not content_type:
        return "", None
    head, *params = content_type.split(";")
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return head.strip().lower(), charset


def check_declared_type(mime: str, url: str) -> None:
    if mime not in TEXT_TYPES and mime not in SNIFFED_TYPES:
        raise UnsupportedTypeError(f"unsupported content type {mime}", url)


def sniff(head: bytes, url: str) -> None:
    """Refuses bytes that are not text, whatever the headers said."""
    for magic, kind in MAGIC:
        if head.startswith(magic):
            raise UnsupportedTypeError(f"the body is a {kind}, not text", url)
    if _RIFF.match(head) or _FTYP.match(head):
        raise UnsupportedTypeError("the body is an image or media file, not text", url)
    sample = head[:SNIFF_BYTES]
    # UTF-16 markup without a BOM (XML allows it: feeds come so) starts with `<` and a zero byte.
    utf16 = sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b"<\x00", b"\x00<"))
    if b"\x00" in sample and not utf16:
        raise UnsupportedTypeError("the body holds NUL bytes: binary, not text", url)


class _Decoder:
    """One content-coding, decompressing with a bound on what one call may produce."""

    def __init__(self, coding: str, url: str) -> None:
        if coding in ("gzip", "x-gzip"):
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            self._obj = zlib.decompressobj()
            self._raw_deflate_tried = False
        else:
            raise UnsupportedTypeError(f"unsupported content encoding {coding}", url)
        self.coding = coding
        self.url = url

    def feed(self, data: bytes, limit: int) -> Iterator[bytes]:
        """Yields decompressed pieces, never producing more than `limit + 1` bytes in total per call."""
        budget = limit + 1
        while data and budget > 0:
            try:
                out = self._obj.decompress(data, budget)
            except zlib.error as exc:
                # Some servers send raw deflate under `deflate`: retry once without the zlib header.
                if self.coding == "deflate" and not self._raw_deflate_tried:
                    self._raw_deflate_tried = True
                    self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise UnsupportedTypeError(f"corrupt {self.coding} body: {exc}", self.url) from exc
            budget -= len(out)
            yield out
            data = self._obj.unconsumed_tail
            if self._obj.eof:
                break


def read_capped(raw: Iterable[bytes], codings: list[str], max_bytes: int, url: str) -> Iterator[bytes]:
    """Decoded body pieces from raw (still compressed) pieces; stops with `TooLargeError` once the decoded size
    passes `max_bytes`, so a compression bomb costs at most about `max_bytes` of memory."""
    # Codings apply in the order listed, so undo them from the last one.
    decoders = [_Decoder(c, url) for c in reversed(codings)]
    total = 0
    for chunk in raw:
        pieces = [chunk]
        for decoder in decoders:
            pieces = [out for piece in pieces for out in decoder.feed(piece, max_bytes - total)]
        for piece in pieces:
            total += len(piece)
            if total > max_bytes:
                raise TooLargeError(f"body larger than {max_bytes} bytes (decompressed)", url)
            if piece:
                yield piece


def content_codings(header: str | None) -> list[str]:
    return [c.strip().lower() for c in (header or "").split(",") if c.strip() and c.strip().lower() != "identity"]


# --- charset -----------------------------------------------------------------------------------------------

_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.\-]+)["']""")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
#: Labels browsers treat as windows-1252 (WHATWG Encoding): pages labelled latin-1 are nearly always cp1252.
_ALIASES = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252",
            "ascii": "cp1252", "iso8859-1": "cp1252", "l1": "cp1252"}  # fmt: skip


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = _ALIASES.get(label.strip().lower(), label.strip().lower())
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode(content: bytes, header_charset: str | None) -> tuple[str, str]:
    """(text, charset used): the first candidate that decodes the bytes cleanly among the BOM, the header's
    charset, a `<meta>`/XML declaration, then detection; utf-8 with replacement characters as a last resort."""
    candidates: list[str | None] = []
    for bom, name in _BOMS:
        if content.startswith(bom):
            candidates.append(name)
    candidates.append(_codec(header_charset))
    head = content[:4096]
    for pattern in (_XML_DECL, _META):
        match = pattern.search(head)
        if match:
            candidates.append(_codec(match.group(1).decode("ascii", "replace")))
    for candidate in candidates:
        if candidate is None:
            continue
        try:
            return content.decode(candidate), candidate
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    matches = charset_normalizer.from_bytes(content)
    # Legacy pages on the web are overwhelmingly windows-1252 (the WHATWG default); among single-byte
    # code pages that fit the bytes equally well, detectors often pick a Baltic or Central European one.
    if any(match.encoding == "cp1252" for match in matches):
        return content.decode("cp1252", errors="replace"), "cp1252"
    best = matches.best()
    encoding = best.encoding if best is not None else None
    if best is not None and encoding:
        return str(best), codecs.lookup(encoding).name
    return content.decode("utf-8", errors="replace"), "utf-8"
