"""Any console: what the terminal's encoding cannot show is replaced, never a traceback.

An old terminal, a redirected Windows console (cp1252) or `PYTHONIOENCODING=ascii` cannot
encode « », the accents, the narrow no-break space or €. The CLI's streams get an error
handler that writes the nearest plain text instead (`«` → `"`, `é` → `e`, `€` → `EUR`,
else `?`). Such a console also gets its text composed first (NFC): a name from a macOS archive
keeps its « é » as « e » and a combining accent, which no Windows console encoding has, where
cp850 and cp1252 have « é ». Only the console is concerned: files are written in UTF-8 by their
own code.
"""

from __future__ import annotations

import codecs
import sys
import unicodedata

from typer import _click  # the click vendored by typer (see converter/cli_fr.py)

HANDLER = "xl2segur-console"
# characters with no plain-letter decomposition, as a French reader expects them
_PLAIN = {"«": '"', "»": '"', "€": "EUR", "—": "-", "–": "-", "…": "...", "’": "'", "‘": "'",
          "“": '"', "”": '"', "œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "\u00a0": " ", "\u202f": " ",
          "×": "x", "≤": "<=", "≥": ">=", "→": "->", "⁰": "0", "−": "-", "≈": "~", "§": "section ",
          "°": "o",
          # a line break typed in a cell, echoed « ↵ » (issues.visible): the pilcrow where the
          # console has one (cp850, cp1252), else its code as for another control character
          "↵": ("¶", "\\n")}


def plain(char: str, encoding: str) -> str:
    """The nearest text `encoding` can write for one character.

    >>> plain("é", "ascii"), plain("«", "ascii"), plain("€", "ascii"), plain("\u202f", "cp1252"), plain("中", "ascii")
    ('e', '"', 'EUR', ' ', '?')
    >>> plain("−", "cp1252"), plain("≈", "cp1252"), plain("§", "ascii"), plain("°", "ascii")
    ('-', '~', 'section ', 'o')
    >>> plain("↵", "cp850"), plain("↵", "ascii")
    ('¶', '\\\\n')
    """
    nearest = _PLAIN.get(char)
    for candidate in (*(nearest if isinstance(nearest, tuple) else (nearest,)), unicodedata.normalize("NFKD", char)):
        if candidate is None:
            continue
        kept = "".join(c for c in candidate if not unicodedata.combining(c))
        try:
            if kept:
                kept.encode(encoding)
                return kept
        except UnicodeEncodeError:
            continue
    return "?"


def _replace(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    text = exc.object[exc.start:exc.end]
    return "".join(plain(c, exc.encoding) for c in text), exc.end


codecs.register_error(HANDLER, _replace)

_COMPOSED = "xl2segur_nfc_"  # the console codec that composes its text, then encodes it as « <base> »


def _composing(name: str) -> codecs.CodecInfo | None:
    """The codec `xl2segur_nfc_<base>`: `<base>`, its text composed first (NFC).

    >>> "Avances e\u0301te\u0301".encode("xl2segur_nfc_cp850", HANDLER).decode("cp850")
    'Avances été'
    """
    if not name.startswith(_COMPOSED):
        return None
    base = codecs.lookup(name[len(_COMPOSED):])

    def encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
        return base.encode(unicodedata.normalize("NFC", text), errors)[0], len(text)

    class Encoder(codecs.IncrementalEncoder):
        def encode(self, text: str, final: bool = False) -> bytes:
            return base.encode(unicodedata.normalize("NFC", text), self.errors)[0]

    return codecs.CodecInfo(encode, base.decode, incrementalencoder=Encoder, incrementaldecoder=base.incrementaldecoder,
                            streamreader=base.streamreader, streamwriter=base.streamwriter, name=name)


codecs.register(_composing)


def tolerate_console_encoding() -> None:
    """Make stdout and stderr replace what their encoding cannot write (see the module)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            base = codecs.lookup(stream.encoding).name
        except (LookupError, TypeError):
            base = "utf-8"
        if base.startswith("utf") or base.startswith(_COMPOSED):  # writes any text as it is
            reconfigure(errors=HANDLER)
        else:
            reconfigure(encoding=_COMPOSED + base, errors=HANDLER)
    # click takes an ascii stream for a misconfigured locale (Python < 3.7) and writes UTF-8
    # bytes past it: --help would reach an ascii console as mojibake. Python 3.7+ (PEP 538,
    # 540) never guesses ascii for the C locale, so an ascii stream is what the user asked for
    _click._compat._stream_is_misconfigured = lambda stream: False
