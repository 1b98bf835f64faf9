"""Text of a draft file in whatever charset it was saved: a BOM, strict UTF-8, else detection."""

from __future__ import annotations

import charset_normalizer

_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))  # fmt: skip
_WESTERN = ("cp1252", "latin_1", "iso8859_15")
#: When detection has nothing to say (very short texts), the charset Western drafts were most often saved in.
FALLBACK = "cp1252"


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, charset). A wrong guess would change a URL (`café` read as `cafÃ©` or `caf\\ufffd`) and so the
    scan id: a BOM wins, then UTF-8 if the bytes are valid UTF-8, then charset_normalizer's best match, then
    cp1252 (which decodes Latin-1 text the same)."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace"), codec
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    matches = list(charset_normalizer.from_bytes(data))
    if matches:
        # Short texts leave several charsets equally clean (é is a valid byte in cp1250 too): among the
        # cleanest, the Western one, the charset most drafts with such bytes were saved in.
        least = min(m.chaos for m in matches)
        cleanest = [m for m in matches if m.chaos <= least + 0.05]
        chosen = next((m for m in cleanest if m.encoding in _WESTERN), cleanest[0])
        return str(chosen), chosen.encoding
    return data.decode(FALLBACK, errors="replace"), FALLBACK
