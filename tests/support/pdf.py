"""The text a PDF shows, read without a PDF library: what a report's tests compare against
the stores."""

from __future__ import annotations

import base64
import re
import zlib


def pdf_text(document: bytes) -> str:
    """Every string a PDF's content streams show, decoded here without a PDF library."""
    shown = []
    for match in re.finditer(rb"<<((?:(?!<<|>>).)*)>>\s*stream\r?\n(.*?)endstream", document,
                             re.DOTALL):
        header, data = match.groups()
        if b"/Subtype /Image" in header:
            continue
        if b"/ASCII85Decode" in header:
            data = base64.a85decode(data.strip().removesuffix(b"~>"))
        if b"/FlateDecode" in header:
            data = zlib.decompress(data)
        shown += [s.replace(rb"\(", b"(").replace(rb"\)", b")").decode("latin-1")
                  for s in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", data)]
    return "\n".join(shown)
