"""The workbook's package, checked before any parser sees it: its kind (an `.xls`, `.csv` or
encrypted file gets its own message), its zip central directory (total uncompressed size,
compression ratio, member count: no zip bomb) and its XML prologs (no DOCTYPE/ENTITY); then
where each sheet's XML is. Refusals are `Refused` (a code of the issue catalogue and its
details), which reading.py turns into French issues.

This module imports neither Polars nor the definitions: the command's entry point
(launch.py) runs these guards before it opens a workbook ahead, while Python imports the rest.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree.ElementTree import ParseError
from xml.parsers import expat

import defusedxml.ElementTree as SafeXML
from zlib_ng import zlib_ng

# --- Limits: refused before fastexcel reads the workbook (documented in the README, « Classeurs difficiles et limites »)
MAX_UNCOMPRESSED_BYTES = 1 << 30  # 1 Gio: sum of the uncompressed sizes in the zip central directory
MAX_COMPRESSION_RATIO = 250  # uncompressed / compressed, for any member above RATIO_FLOOR_BYTES
RATIO_FLOOR_BYTES = 10 << 20  # small members may compress as well as they like
MAX_ZIP_MEMBERS = 10_000

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")  # stream of an encrypted OOXML package
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_OFFICE_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_SST_COUNT = re.compile(rb"<(?:\w+:)?sst\b[^>]*?\suniqueCount\s*=\s*[\"'](\d+)")  # the table's announced size
_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}


class Refused(Exception):
    """The package is refused: `code` in the issue catalogue (converter/issues.py), `details`
    its placeholders."""

    def __init__(self, code: str, **details: Any):
        super().__init__(code)
        self.code, self.details = code, details


def _contains(path: Path, needle: bytes) -> bool:
    with path.open("rb") as fh:
        tail = b""
        while block := fh.read(1 << 20):
            if needle in tail + block:
                return True
            tail = block[-len(needle):]
    return False


def _matched(pattern: Path) -> str:
    """What a pattern given for the workbook designates: its workbooks, a lock file or a hidden
    file left out."""
    try:
        names = sorted(p.name for p in pattern.parent.glob(pattern.name) if p.is_file()
                       and not p.name.startswith(("~$", ".")) and p.suffix.lower() in (".xlsx", ".xlsm", ".ods"))
    except (OSError, ValueError):
        names = []
    quoted = [f"« {name} »" for name in names]
    if not names:
        return " Il ne désigne aucun classeur (.xlsx ou .ods) : vérifiez le chemin."
    if len(names) == 1:
        return f" Il désigne le classeur {quoted[0]} : indiquez ce nom."
    return f" Il désigne les classeurs {', '.join(quoted[:-1])} et {quoted[-1]} : vérifiez-les ou convertissez-les un par un."


def check_container(path: Path) -> None:
    """Refuse what is not an .xlsx/.xlsm package, with the message that says what to do."""
    try:
        if path.is_dir():
            raise Refused("chemin_dossier")
        if not path.is_file():
            if glob.has_magic(path.name):  # `verifier *.xlsx` in a Windows console, which hands it over as typed
                raise Refused("chemin_motif", detail=_matched(path))
            # « - » names the standard input for many tools; a workbook is a file, read by its path
            raise Refused("entree_standard" if str(path) == "-" else "fichier_introuvable")
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:  # a name too long for the system, a file it cannot read
        from .files import why  # its French reason; imported on this path only (see the module)

        raise Refused("fichier_illisible", detail=f"lecture impossible : {why(exc)}") from exc
    suffix = path.suffix.lower()
    if head.startswith(_OLE_MAGIC):  # an encrypted OOXML package is an OLE container too
        if _contains(path, _ENCRYPTED):
            raise Refused("classeur_protege")
        raise Refused("format_non_pris_en_charge", detail="« .xls » (ancien format Excel)")
    if head.startswith(_ZIP_MAGIC):
        return
    if (locked := _locked_workbook(path.name)) is not None:
        raise Refused("fichier_verrou", detail=locked)
    if not head:
        raise Refused("fichier_illisible", detail="fichier vide")
    if suffix == ".json" or head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"{"):
        raise Refused("fichier_json")  # a deposit file or a return, given to verifier or convertir
    if suffix in (".csv", ".txt", ".tsv", ".json", ".xml", ".html", ".htm", ".fods"):  # .fods: LibreOffice's flat XML
        raise Refused("format_non_pris_en_charge", detail=f"« {suffix} »")
    raise Refused("fichier_illisible", detail="ce n'est pas un fichier .xlsx")


def _locked_workbook(name: str) -> str | None:
    """The workbook whose lock file `name` is, if it is one: Excel writes `~$demandes.xlsx`,
    LibreOffice `.~lock.demandes.xlsx#`, beside a workbook open (hidden files, but a shell's
    completion or a glob offers them).

    >>> _locked_workbook("~$demandes.xlsx"), _locked_workbook(".~lock.demandes.ods#"), _locked_workbook("a.xlsx")
    ('demandes.xlsx', 'demandes.ods', None)
    """
    if name.startswith("~$") and len(name) > 2:
        return name[2:]
    if name.startswith(".~lock.") and name.endswith("#") and len(name) > 8:
        return name[len(".~lock."):-1]
    return None


def _member(base: str, target: str) -> str:
    """Resolve a relationship target against the folder of the part that declares it."""
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = []
    for piece in PurePosixPath(base, target).parts:
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in (".", ""):
            parts.append(piece)
    return "/".join(parts)


def _parse_xml(zf: zipfile.ZipFile, name: str):
    try:
        return SafeXML.fromstring(zf.read(name), forbid_dtd=True)
    except LookupError as exc:  # `<?xml … encoding="…"?>` naming no encoding Python knows: malformed
        raise ParseError(f"{name} : {exc}") from exc


_ODS_SMALL_PARTS = ("META-INF/manifest.xml", "styles.xml", "meta.xml", "settings.xml")


def is_ods(zf: zipfile.ZipFile) -> bool:
    """A LibreOffice Calc package (OpenDocument), whatever its file name says."""
    return "mimetype" in zf.namelist() and zf.read("mimetype")[:100].startswith(_ODS_MIME)


def check_ods(path: Path, zf: zipfile.ZipFile) -> None:
    """An .ods saved with a password (« Enregistrer avec mot de passe ») keeps its zip and
    mimetype, but its manifest declares each part encrypted: refused as an encrypted .xlsx is
    (fastexcel answered in English). Every part is declared so: the manifest's start tells.
    The small parts beside content.xml (styles, metadata, settings) must be well-formed XML, as
    an .xlsx's are: LibreOffice opens no .ods one of them spoils, and fastexcel never reads
    them (ParseError, a damaged part)."""
    names = zf.namelist()
    if "META-INF/manifest.xml" in names:
        with zf.open("META-INF/manifest.xml") as fh:
            if b"encryption-data" in fh.read(1 << 20):
                raise Refused("classeur_protege")
    for name in _ODS_SMALL_PARTS:
        if name in names:
            _parse_xml(zf, name)


def check_archive(path: Path, zf: zipfile.ZipFile) -> None:
    """Zip-bomb and XML-bomb guards, for an .xlsx as for an .ods."""
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        raise Refused("classeur_trop_gros", detail=f"{MAX_ZIP_MEMBERS} éléments (il en contient {len(infos)})")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise Refused("classeur_trop_gros", detail=f"{_size(MAX_UNCOMPRESSED_BYTES)} (il fait {_size(total)})")
    for info in infos:
        if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1):
            raise Refused("classeur_trop_gros",
                          detail=f"un taux de compression de {MAX_COMPRESSION_RATIO} pour 1 ({info.filename})")
    for info in infos:  # no DTD anywhere: entity expansion is refused before any parser sees it
        if info.filename.endswith((".xml", ".rels", ".vml")):
            with zf.open(info) as fh:
                prolog = fh.read(65536)
            if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
                raise Refused("fichier_illisible",
                              detail=f"déclaration DOCTYPE/ENTITY interdite dans {info.filename}")
            if info.filename.lower().endswith("sharedstrings.xml"):
                _check_string_count(info, prolog)


def _check_string_count(info: zipfile.ZipInfo, prolog: bytes) -> None:
    """fastexcel (calamine) reserves memory for as many texts as the shared strings' table
    announces (`<sst uniqueCount="…">`, 24 bytes each) before reading one: a damaged count of
    a hundred billion ended the process on « memory allocation failed », a Rust backtrace and
    no French word. Each text takes at least 5 bytes (`<si/>`): a count the member cannot hold
    is damage, refused here."""
    sst = _SST_COUNT.search(prolog)
    if sst is not None and int(sst.group(1)) > info.file_size // 5:
        raise Refused("fichier_illisible",
                      detail=f"{info.filename} annonce {int(sst.group(1))} textes, plus qu'il ne peut en contenir : "
                             "ouvrez-le dans Excel ou LibreOffice et enregistrez-le de nouveau")


def check_package(path: Path, zf: zipfile.ZipFile) -> dict[str, str]:
    """The guards of check_archive; return sheet name → zip member of its XML (.xlsx)."""
    check_archive(path, zf)
    names = set(zf.namelist())
    root = _workbook_part(zf)
    if root not in names:
        if any(n.endswith(".bin") and n.startswith("xl/workbook") for n in names):
            raise Refused("format_non_pris_en_charge", detail="« .xlsb » (classeur binaire)")
        raise Refused("fichier_illisible", detail="archive sans classeur Excel")
    folder = str(PurePosixPath(root).parent)
    book = _parse_xml(zf, root)
    targets = {r.get("Id"): r.get("Target", "") for r in _relationships(zf, root)}
    members = {}
    for sheet in book.iterfind("m:sheets/m:sheet", _NS):
        target = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "")
        member = _member(folder, target)
        if member in names:
            members[sheet.get("name")] = member
    return members


def _relationships(zf: zipfile.ZipFile, part: str) -> list[Any]:
    """The relationships `part` declares (its `_rels/….rels`), none when it has no such file."""
    name = _member(str(PurePosixPath(part).parent), f"_rels/{PurePosixPath(part).name}.rels")
    return list(_parse_xml(zf, name)) if name in zf.namelist() else []


def _workbook_part(zf: zipfile.ZipFile) -> str:
    """The zip member of the workbook part (xl/workbook.xml, unless the package says otherwise)."""
    if "_rels/.rels" in zf.namelist():
        rels = _parse_xml(zf, "_rels/.rels")
        return next((_member("", r.get("Target", "")) for r in rels if r.get("Type") == _OFFICE_DOC), "xl/workbook.xml")
    return "xl/workbook.xml"


def uses_1904_dates(zf: zipfile.ZipFile) -> bool:
    """Whether the workbook counts its dates from 1904 (`<workbookPr date1904="1"/>`, the
    default of Excel for Mac before 2011): its serial numbers are 1,462 days short of the
    usual count from 1900. Call after check_package."""
    pr = _parse_xml(zf, _workbook_part(zf)).find("m:workbookPr", _NS)
    return pr is not None and pr.get("date1904", "").lower() in ("1", "true")


def written_by_calc(zf: zipfile.ZipFile) -> bool:
    """Whether LibreOffice Calc saved this .xlsx (`<fileVersion appName="Calc"/>`): it counts
    a serial number from 30 December 1899 for every date, Excel (and fastexcel) from
    31 December 1899 before 1 March 1900 (Excel's fictitious 29 February 1900). Call after
    check_package."""
    version = _parse_xml(zf, _workbook_part(zf)).find("m:fileVersion", _NS)
    return version is not None and version.get("appName") == "Calc"


_STYLES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
_PERCENT_FORMATS = {9: 0, 10: 2}  # Excel's built-in « 0% » and « 0.00% »
# Excel's built-in number formats that show no decimal: « 0 », « #,##0 », and the currency and
# accounting ones without cents (5, 6, 37, 38, 41, 42); the others show two, or are General,
# dates, text (ECMA-376 part 1, 18.8.30)
_ROUNDING_FORMATS = {1: (0, 0), 3: (0, 0), 5: (0, 0), 6: (0, 0), 37: (0, 0), 38: (0, 0), 41: (0, 0), 42: (0, 0)}
_DATE_OR_TEXT = re.compile(r"[yYmMdDhHsSeE@]|General|Standard", re.I)


@dataclass(frozen=True)
class NumberStyles:
    """The cell styles (`<c s="…">`, an index into cellXfs) whose number format shows another
    number than the cell holds. Most workbooks have none."""

    percents: dict[int, int] = field(default_factory=dict)  # « 30 % » for 0.3: style → decimals shown
    # fewer decimals than a cent, or thousands (« #,##0, »): style → (decimals shown, powers of 1,000
    # the number is divided by); « 0 » shows 4867 for 4866.67
    rounding: dict[int, tuple[int, int]] = field(default_factory=dict)
    # dates shown the month before the day (« mm/dd/yyyy » shows 04/03/2024 for 3 April): style →
    # the strftime pattern of what the cell shows (month_first)
    month_first: dict[int, str] = field(default_factory=dict)
    # formats showing no digit of a number, or none of a text (« ;;; » shows nothing, « "à venir" »
    # that text): style → what a positive number, a negative one, zero and a text show (masking)
    masked: dict[int, tuple[str | None, str | None, str | None, str | None]] = field(default_factory=dict)


def _rounding(code: str) -> tuple[int, int] | None:
    """(decimals shown, thousands divided by) of a number format's positive part, outside its
    quotes; None when it shows a cent or more, or is no plain number (date, text, General,
    scientific, percentage).

    >>> _rounding("0"), _rounding("#,##0 €"), _rounding("0.0"), _rounding("#,##0,"), _rounding("0.00")
    ((0, 0), (0, 0), (1, 0), (0, 1), None)
    >>> _rounding("dd/mm/yyyy"), _rounding("General"), _rounding("0%"), _rounding("[$€-40C] #,##0")
    (None, None, None, (0, 0))
    """
    code = re.sub(r"\\.|\[[^\]]*\]|_.|\*.", "", code)  # escaped characters, [colours] and [$€-40C], paddings
    if "%" in code or _DATE_OR_TEXT.search(code) or not re.search(r"[0#?]", code):
        return None
    point = code.find(".")
    decimals = len(re.findall(r"[0#?]", code[point:])) if point >= 0 else 0
    placed = code[:point] if point >= 0 else code
    thousands = len(placed) - len(placed.rstrip(",")) if re.search(r"[0#?],+\s*$", placed) else 0
    return (decimals, thousands) if decimals < 2 or thousands else None


# Excel's short date and date-time (numFmtId 14, 22: « m/d/yyyy » in ECMA-376) are shown in the
# order of the reader's own settings (a French Excel or LibreOffice shows 03/04/2024), and so
# are the codes of a system date: never month first for a French reader
_LOCALE_DATES = (14, 22)
_SYSTEM_DATE = re.compile(r"\[\$-(?:F800|F400|x-sysdate|x-systime)\]", re.I)
_DATE_TOKEN = re.compile(r'"[^"]*"?|\\.|\[[^\]]*\]?|[_*].?|am/pm|a/p|([yYmMdDhHsSeE])\1*|;|.', re.I | re.S)
_STRFTIME = {"y": ("%y", "%y", "%Y"), "e": ("%Y",), "d": ("%-d", "%d", "%a", "%A"), "month": ("%-m", "%m", "%b", "%B"),
             "minute": ("%-M", "%M"), "h": ("%-H", "%H"), "h12": ("%-I", "%I"), "s": ("%-S", "%S")}


def month_first(code: str) -> str | None:
    """The strftime pattern of what a date cell of this number format shows, when the format
    shows the month as a number before the day (and not after the year, as ISO's yyyy-mm-dd):
    04/03/2024 for 3 April, which a French reader reads 4 March; None otherwise. An « m » after
    an hour or before seconds is minutes.

    >>> month_first("mm/dd/yyyy"), month_first("[$-409]m/d/yy h:mm AM/PM;@"), month_first('mm"/"dd')
    ('%m/%d/%Y', '%-m/%-d/%y %-I:%M %p', '%m/%d')
    >>> month_first("dd/mm/yyyy"), month_first("yyyy-mm-dd"), month_first("mmm d, yyyy"), month_first("[$-F800]dddd, mmmm dd, yyyy")
    (None, None, None, None)
    >>> month_first("0.00"), month_first("General"), month_first("h:mm"), month_first("hh:mm dd/mm")
    (None, None, None, None)
    """
    if _SYSTEM_DATE.search(code):
        return None
    tokens: list[tuple[str, str]] = []  # (letter or "" for a literal, its text)
    for m in _DATE_TOKEN.finditer(code):
        text = m.group(0)
        if text == ";":
            break
        if m.group(1):
            tokens.append((m.group(1).lower(), text))
        elif text.lower() in ("am/pm", "a/p"):
            tokens.append(("ampm", "%p"))
        elif text.startswith('"'):
            tokens.append(("", text.strip('"')))
        elif text.startswith("\\"):
            tokens.append(("", text[1:]))
        elif text.startswith("_"):
            tokens.append(("", " "))
        elif not text.startswith(("[", "*")):
            tokens.append(("", text))
    letters = [(i, k) for i, (k, _) in enumerate(tokens) if k]
    kinds = {}
    for n, (i, k) in enumerate(letters):
        before, after = letters[n - 1][1] if n else "", letters[n + 1][1] if n + 1 < len(letters) else ""
        kinds[i] = "minute" if k == "m" and (before == "h" or after == "s") and len(tokens[i][1]) < 3 else \
            "month" if k == "m" else ("h12" if k == "h" and any(k == "ampm" for _, k in letters) else k)
    months = [i for i, k in kinds.items() if k == "month" and len(tokens[i][1]) < 3]
    days = [i for i, k in kinds.items() if k == "d" and len(tokens[i][1]) < 3]
    years = [i for i, k in kinds.items() if k in ("y", "e")]
    if not months or not days or months[0] > days[0] or (years and years[0] < months[0]):
        return None
    pattern = []
    for i, (k, text) in enumerate(tokens):
        if i in kinds and kinds[i] in _STRFTIME:
            choices = _STRFTIME[kinds[i]]
            pattern.append(choices[min(len(text), len(choices)) - 1])
        else:
            pattern.append(text if k == "ampm" else text.replace("%", "%%"))
    return "".join(pattern)


_SECTION_TOKEN = re.compile(r'"[^"]*"?|\\.|\[[^\]]*\]?|[_*].?|;|.', re.S)
_SHOWS_VALUE = re.compile(r"[0#?@yYmMdDhHsSeE]|general|standard", re.I)


def masking(code: str) -> tuple[str | None, str | None, str | None, str | None] | None:
    """What a number format shows instead of a value, where it shows none of it: for a
    positive number, a negative one, zero and a text (its sections), the text shown (« » for
    nothing), None where the section shows the value; None when every section shows it, or
    when the format chooses its sections by conditions (« [>=100] »).

    >>> masking(";;;"), masking('"à venir"'), masking('"FAUX";"FAUX";"VRAI"')
    (('', '', '', ''), ('à venir', 'à venir', 'à venir', None), ('FAUX', 'FAUX', 'VRAI', None))
    >>> masking("0.00;-0.00;;@"), masking("#,##0 €"), masking("dd/mm/yyyy;@"), masking("General"), masking('[>=100]0;"petit"')
    ((None, None, '', None), None, None, None, None)
    """
    sections, shown, values = [], [], False
    for m in _SECTION_TOKEN.finditer(code + ";"):
        text = m.group(0)
        if text == ";":
            sections.append(None if values else "".join(shown))
            shown, values = [], False
        elif text.startswith("[") and re.match(r"\[[<>=]", text):
            return None
        elif text.startswith('"'):
            shown.append(text.strip('"'))
        elif text.startswith("\\"):
            shown.append(text[1:])
        elif text.startswith("_"):
            shown.append(" ")
        elif not text.startswith(("*", "[")):
            values = values or bool(_SHOWS_VALUE.match(text))
            shown.append(text)
    if re.search(r"general|standard", code, re.I):
        return None
    positive = sections[0]
    found = (positive, sections[1] if len(sections) > 1 else positive, sections[2] if len(sections) > 2 else positive,
             sections[3] if len(sections) > 3 else None)
    return None if found == (None, None, None, None) else found


def number_styles(zf: zipfile.ZipFile) -> NumberStyles:
    """The cell styles whose number format shows a percentage (« 30 % » for 0.3), each with its
    decimals: built in (9, 10) or of the workbook's own formats holding a « % » outside quotes;
    and those that round the number shown (`NumberStyles.rounding`). Call after check_package."""
    root = _workbook_part(zf)
    target = next((r.get("Target", "") for r in _relationships(zf, root) if r.get("Type") == _STYLES), None)
    member = _member(str(PurePosixPath(root).parent), target) if target else "xl/styles.xml"
    if member not in zf.namelist():
        return NumberStyles()
    styles = _parse_xml(zf, member)
    percents, rounding = dict(_PERCENT_FORMATS), dict(_ROUNDING_FORMATS)
    dates: dict[int, str] = {}
    masks: dict[int, tuple[str | None, str | None, str | None, str | None]] = {}
    for fmt in styles.iterfind("m:numFmts/m:numFmt", _NS):
        if not fmt.get("numFmtId", "").isdigit():
            continue
        number = int(fmt.get("numFmtId"))
        if number not in _LOCALE_DATES and (shows := month_first(fmt.get("formatCode", ""))) is not None:
            dates[number] = shows
        if (mask := masking(fmt.get("formatCode", ""))) is not None:
            masks[number] = mask
        code = "".join(fmt.get("formatCode", "").split('"')[::2]).split(";")[0]  # outside quotes, positive part
        percents.pop(number, None), rounding.pop(number, None)  # a workbook may redefine a built-in id
        if "%" in code.replace("\\%", ""):
            point = code.find(".")
            percents[number] = 0 if point < 0 else len(code[point + 1:].split("%")[0].strip("\\ "))
        elif (shown := _rounding(code)) is not None:
            rounding[number] = shown
    formats = [xf.get("numFmtId", "0") for xf in styles.iterfind("m:cellXfs/m:xf", _NS)]
    return NumberStyles({i: percents[int(f)] for i, f in enumerate(formats) if f.isdigit() and int(f) in percents},
                        {i: rounding[int(f)] for i, f in enumerate(formats) if f.isdigit() and int(f) in rounding},
                        {i: dates[int(f)] for i, f in enumerate(formats) if f.isdigit() and int(f) in dates},
                        {i: masks[int(f)] for i, f in enumerate(formats) if f.isdigit() and int(f) in masks})


def _size(n: int) -> str:
    return f"{n / (1 << 30):.0f} Gio" if n >= 1 << 30 else f"{n / (1 << 20):.0f} Mio"


def member_chunks(zf: zipfile.ZipFile, member: str, block: int = 1 << 15) -> Iterator[bytes]:
    """The uncompressed bytes of `member`, in pieces. A deflated member (every sheet Excel or
    LibreOffice saves) is inflated by zlib-ng, three times as fast as Python's zlib, which
    zipfile uses, `block` compressed bytes at a time (pieces of about 250 ko that stay in the
    processor's cache while reading.py scans them): the scan of the sheets of 100,000
    demandes takes 0.27 s of CPU instead of 0.52, on the reading's critical path. As zipfile
    does, no more than the size the archive declares is inflated (its central directory
    passed check_archive), and the CRC-32 is checked; zipfile.BadZipFile otherwise. Another
    method, an encrypted member, or a file no longer the one `zf` opened: zipfile reads it
    (tests/test_hostile.py compares both ways)."""
    info = zf.getinfo(member)
    own = _same_file(zf) if info.compress_type == zipfile.ZIP_DEFLATED and not info.flag_bits & 1 else None
    if own is None:
        with zf.open(info) as fh:
            while piece := fh.read(1 << 20):
                yield piece
        return
    with own:
        own.seek(info.header_offset)
        local = own.read(30)
        if len(local) < 30 or not local.startswith(_ZIP_MAGIC):
            raise zipfile.BadZipFile(f"en-tête local absent : {member}")
        name_and_extra = int.from_bytes(local[26:28], "little") + int.from_bytes(local[28:30], "little")
        own.seek(info.header_offset + 30 + name_and_extra)
        inflate, left, unread, crc = zlib_ng.decompressobj(-15), info.file_size, info.compress_size, 0
        try:
            while unread > 0:
                data = own.read(min(block, unread))
                if not data:
                    raise zipfile.BadZipFile(f"données tronquées : {member}")
                unread -= len(data)
                while data:
                    piece = inflate.decompress(data, left + 1)  # one byte more than declared: caught
                    left -= len(piece)
                    if left < 0:
                        raise zipfile.BadZipFile(f"plus long que sa taille déclarée : {member}")
                    crc = zlib_ng.crc32(piece, crc)
                    if piece:
                        yield piece
                    data = inflate.unconsumed_tail
        except zlib_ng.error as exc:
            raise zipfile.BadZipFile(f"{member} : {exc}") from exc
        if left or crc != info.CRC:
            raise zipfile.BadZipFile(f"données abîmées (CRC-32) : {member}")


def _same_file(zf: zipfile.ZipFile) -> Any:
    """A handle of its own on the file `zf` reads (zipfile's is shared between threads), if it
    is still that file; else None."""
    if not zf.filename or zf.fp is None:
        return None
    try:
        own = open(zf.filename, "rb")  # noqa: SIM115 — closed by the caller
    except OSError:
        return None
    try:
        mine, theirs = os.fstat(own.fileno()), os.fstat(zf.fp.fileno())
    except (OSError, AttributeError, ValueError):
        own.close()
        return None
    if (mine.st_dev, mine.st_ino, mine.st_size) != (theirs.st_dev, theirs.st_ino, theirs.st_size):
        own.close()
        return None
    return own


def sheet_bytes(zf: zipfile.ZipFile, members: dict[str, str]) -> int:
    """The uncompressed bytes of the sheets' XML (`members`: check_package's)."""
    return sum(zf.getinfo(member).file_size for member in members.values())


class WellFormed:
    """An XML part given to expat (a streaming C parser; no handler, nothing built) piece by
    piece: `feed` raises ParseError at its first fault, Refused on a DOCTYPE, which
    check_archive looks for in the prolog only (no entity is ever declared)."""

    def __init__(self, member: str) -> None:
        self.member, self.parser = member, expat.ParserCreate()
        self.parser.StartDoctypeDeclHandler = self._doctype

    def _doctype(self, *_: Any) -> None:
        raise Refused("fichier_illisible", detail=f"déclaration DOCTYPE/ENTITY interdite dans {self.member}")

    def feed(self, data: bytes, final: bool = False) -> None:
        try:
            self.parser.Parse(data, final)
        except expat.ExpatError as exc:
            raise ParseError(f"{self.member} : {exc}") from exc


ASIDE_WELL_FORMED, ASIDE_MALFORMED, ASIDE_DOCTYPE = 0, 10, 11  # exit codes of `python -m converter.container`


def well_formed_aside(path: Path, member: str) -> subprocess.Popen[bytes] | None:
    """`member` of the zip at `path` checked by WellFormed in a second process, which imports
    this module only (0.05 s), while this one reads it otherwise: its exit code tells
    (ASIDE_…), any other that it could not say. None if it cannot start."""
    package_parent = str(Path(__file__).resolve().parent.parent)  # also when run from a checkout
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (package_parent, os.environ.get("PYTHONPATH"))))}
    try:
        return subprocess.Popen([sys.executable, "-m", __name__, str(path), member], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    except OSError:
        return None


def _check_aside(path: str, member: str) -> int:
    xml = WellFormed(member)
    try:
        with zipfile.ZipFile(path) as zf:
            for piece in member_chunks(zf, member):
                xml.feed(piece)
        xml.feed(b"", final=True)
    except ParseError:
        return ASIDE_MALFORMED
    except Refused:
        return ASIDE_DOCTYPE
    return ASIDE_WELL_FORMED


if __name__ == "__main__":
    sys.exit(_check_aside(*sys.argv[1:3]))
