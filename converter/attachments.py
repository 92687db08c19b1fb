"""Pièces justificatives: find, check and zip the attachments of the accepted demandes.

`xl2segur convertir … --pieces DOSSIER`: each attachment a demande must send (the list the
deposit JSON declares, computed by build.py) is looked for in DOSSIER, under its
nomenclature name (`MS2-DUI-Va1-BDC-00001.pdf`) or under the name typed in the optional
column `fichierSource` of the Pièces sheet. It must exist inside DOSSIER (an absolute path,
`..` or a symbolic link leading elsewhere is refused), hold the declared format (PDF, PNG or
JPG, recognised by their first bytes) and weigh at most 3 Mo. A demande with a missing,
empty, mistyped or oversized attachment is rejected BEFORE any deposit file is written. A
name that differs only by case (`.PDF`) or Unicode form (macOS writes « é » decomposed), or
whose folders do, finds its file, with a warning naming it; a file in another known format than declared gets the
two ways out (declare that format and name the file, or rename it).

The attachments of each deposit file are then written under their nomenclature names into
zip archives named after it (`JSON-…-001.zip`, then `JSON-…-001-2.zip`… beyond 200 Mo).
Checking files is file-system work: it loops over the attachments, not over sheet rows.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import unicodedata
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import polars as pl

from .checks import NE, Checked
from .deposit import LINES
from .files import OutputError, name_key, why, write_new
from .formats import FormatDefinition
from .issues import Issue, Severity, message, severity
from .reading import ROW

SOURCE_COLUMN = "fichierSource"  # optional column of the Pièces sheets; never reaches the JSON
PIECES_ALIAS = "pieces"

# The first bytes of each attachment format (ISO 32000 `%PDF-`, the PNG signature, JPEG SOI).
MAGIC: dict[str, tuple[bytes, ...]] = {
    "PDF": (b"%PDF-",),
    "PNG": (b"\x89PNG\r\n\x1a\n",),
    "JPG": (b"\xff\xd8\xff",),
}
# PDF readers look for the header in the first 1,024 bytes (a line break or a byte-order mark
# before it, left by web software, is common): sent, with a warning (the seeds ask for « pdf »)
_PDF_WITHIN = 1024

# Bytes a stored (uncompressed) member adds to a zip beyond its data: local header (30) and
# central directory entry (46), each followed by the name; 22 for the end-of-directory record.
_ZIP_LOCAL, _ZIP_CENTRAL, _ZIP_END = 30, 46, 22


@dataclass(frozen=True)
class Attachment:
    """One checked attachment, ready to be zipped."""

    numero_editeur: str
    name: str  # nomenclature name, as declared in the JSON
    source: Path
    size: int


def max_attachment_bytes(definition: FormatDefinition) -> int:
    return definition.limits.max_attachment_bytes


def max_zip_bytes(definition: FormatDefinition) -> int:
    return definition.limits.max_zip_bytes


def megabytes(size: int) -> str:
    """Mo as the limits count them (10⁶ octets); the octets too when the Mo would round.

    >>> megabytes(3000000), megabytes(3500000), megabytes(3000001)
    ('3 Mo', '3,5 Mo', '3 000 001 octets')
    """
    value = f"{size / 1_000_000:.2f}"
    if float(value) * 1_000_000 != size and value.endswith("00"):  # 3,00 Mo for 3 000 001 octets
        return f"{size:,} octets".replace(",", " ")
    return value.rstrip("0").rstrip(".").replace(".", ",") + " Mo"


def expected(checked: Checked, records: list[dict[str, Any]]) -> pl.DataFrame:
    """One row per attachment the accepted demandes declare, with where it was asked for.

    Columns: NE, nomFichier, formatFichier, typeFichier, demande_row, piece_row, fichierSource.
    """
    definition = checked.definition
    declared = pl.DataFrame(
        {NE: [r[NE] for r in records], "a": [r["attachments"] for r in records]},
        schema={NE: pl.String, "a": pl.List(pl.Struct({"nomFichier": pl.String, "formatFichier": pl.String,
                                                        "typeFichier": pl.String}))},
    ).explode("a").drop_nulls("a").unnest("a")
    declared = declared.with_columns(  # the records hold JSON literals: decode them
        pl.col(c).str.json_decode(pl.String) for c in ("nomFichier", "formatFichier", "typeFichier")
    )
    demandes = checked.frames[definition.demandes.name].select(NE, pl.col(ROW).alias("demande_row")) \
        .unique(NE, keep="first")
    # in the declared order (each demande's, in the deposit file), which the zip's members keep:
    # a join's order is not guaranteed unless asked for
    declared = declared.join(demandes, on=NE, how="left", maintain_order="left")
    sheet = next((s for s in definition.sheets if s.alias == PIECES_ALIAS), None)
    if sheet is not None and SOURCE_COLUMN in sheet.by_balise:
        pieces = checked.frames[sheet.name].select(
            NE, "typeFichier", pl.col(ROW).alias("piece_row"), pl.col(SOURCE_COLUMN).alias("fichierSource"),
        ).drop_nulls([NE, "typeFichier"]).unique([NE, "typeFichier"], keep="first")
        return declared.join(pieces, on=[NE, "typeFichier"], how="left", maintain_order="left")
    return declared.with_columns(piece_row=pl.lit(None, dtype=pl.Int64), fichierSource=pl.lit(None, dtype=pl.String))


def _escapes(value: str) -> bool:
    """A name typed in the workbook that is absolute or climbs out with `..`.

    >>> [_escapes(v) for v in ("a/b.pdf", "../b.pdf", "/etc/passwd", "C:\\\\x.pdf", "\\\\\\\\srv\\\\x", "a\\\\..\\\\..\\\\b")]
    [False, True, True, True, True, True]
    """
    for pure in (PurePosixPath(value), PureWindowsPath(value)):
        if pure.is_absolute() or pure.drive or pure.root or ".." in pure.parts:
            return True
    return False


def _resolve(folder: Path, name: str) -> Path | None:
    """The file `name` inside `folder`, or None if it would lead outside (links included)."""
    if _escapes(name):
        return None
    try:
        candidate = (folder / name.replace("\\", "/")).resolve()
    except (OSError, RuntimeError):  # a link that loops: inside the folder, unreadable (_fault says so)
        return folder / name.replace("\\", "/")
    return candidate if candidate.is_relative_to(folder) else None


class _Folder:
    """Files of the attachments folder found by a name that differs only by case or by Unicode
    form; each folder listed once, when a name is first missing from it."""

    def __init__(self, root: Path):
        self.root = root
        self.listed: dict[Path, dict[str, list[str]]] = {}

    def names(self, parent: Path) -> dict[str, list[str]]:
        """The names in the folder `parent`, by files.name_key."""
        if parent not in self.listed:
            keys: dict[str, list[str]] = {}
            with os.scandir(parent) if parent.is_dir() else contextlib.nullcontext([]) as entries:
                for entry in entries:
                    keys.setdefault(name_key(entry.name), []).append(entry.name)
            self.listed[parent] = keys
        return self.listed[parent]

    def near_folder(self, wanted: Path) -> Path:
        """The folder `wanted` (inside the root) may mean: each missing part found as a file
        is (a folder made on macOS keeps its decomposed accents once unzipped elsewhere)."""
        here = self.root
        for part in wanted.relative_to(self.root).parts:
            if not (here / part).is_dir():
                found = [n for n in self.names(here).get(name_key(part), []) if (here / n).is_dir()]
                if len(found) != 1:
                    return wanted
                part = found[0]
            here = here / part
        return here

    def near(self, wanted: Path) -> list[str]:
        """Names, relative to the folder, of the files that `wanted` (absent) may mean."""
        parent = wanted.parent if wanted.parent.is_dir() else self.near_folder(wanted.parent)
        relative, names = parent.relative_to(self.root), self.names(parent)
        found = names.get(name_key(wanted.name), [])
        if not found and wanted.suffix:  # Windows hides known extensions: renamed « x.pdf », it is « x.pdf.pdf »
            found = names.get(name_key(wanted.name + wanted.suffix), [])
        return sorted(str(relative / n) if relative.parts else n for n in found)

    def find(self, name: str) -> tuple[Path | None, str, tuple[str, dict[str, Any]] | None]:
        """(the file `name` inside the folder — None if it leads outside —, the name it was found
        under, what is ambiguous about it). Missing, the one file whose name differs from it
        only by case or Unicode form stands for it; several such files: « piece_nom_ambigu ».

        Seed 001, §3.3: « Le nommage des pièces justificatives liées aux demandes de
        financement répond à la norme suivante : CodeCouloir-Logiciel-Va1-CodeTypeFichier-
        NuméroEditeurDeLaDemande.format » — the name in the zip, which keeps it; of the name on
        the user's disk the seeds say nothing: one that differs by case (.PDF) or Unicode form
        (macOS) is used, and the caller warns."""
        source = _resolve(self.root, name)
        if source is None or source.is_file():
            return source, name, None
        near = self.near(source)
        if len(near) == 1 and (match := _resolve(self.root, near[0])) is not None and match.is_file():
            return match, near[0], None
        if len(near) > 1:
            return source, name, ("piece_nom_ambigu", {"detail": name, "fichiers": " et ".join(f"« {n} »" for n in near)})
        return source, name, None


def _identity(source: Path) -> object:
    """What tells one file from another whatever name leads to it (a link, another case)."""
    try:
        found = source.stat()
    except OSError:
        return source
    return (found.st_dev, found.st_ino) if found.st_ino else source


def _other_name(typed: str, found: str) -> bool:
    """Whether the file was found under a name that reads otherwise than the one `typed`: not
    under the same name in another Unicode form (« é » decomposed by macOS: the same text, as
    the cells are read, and the two names shown alike in a warning)."""
    return unicodedata.normalize("NFC", found) != unicodedata.normalize("NFC", typed)


def _approaching(typed: str, found: str) -> str:
    """The warning's code for a file found under a name near the one `typed` (_Folder.find)."""
    def last(name: str) -> str:
        return name_key(PurePosixPath(name.replace("\\", "/")).name)
    return "piece_nom_approchant" if last(typed) == last(found) else "piece_extension_doublee"


def _format_of(head: bytes) -> str | None:
    return next((fmt for fmt, magics in MAGIC.items() if head.startswith(magics)), None)


def _fault(source: Path | None, name: str, row: dict[str, Any],
           limit: int) -> tuple[tuple[str, dict[str, Any]] | None, int]:
    """(what is wrong with the file `name`, if anything: code and message parameters; its size)."""
    if source is None:
        return ("piece_chemin_interdit", {}), 0
    if not source.is_file():
        if source.is_dir():
            return ("piece_illisible", {"detail": name, "raison": "c'est un dossier, pas un fichier"}), 0
        if source.is_symlink():
            return ("piece_illisible", {"detail": name, "raison": "lien vers un fichier absent, ou vers lui-même"}), 0
        return ("piece_introuvable", {"detail": name}), 0
    try:
        size = source.stat().st_size
        with source.open("rb") as fh:
            head = fh.read(_PDF_WITHIN)
    except OSError as exc:  # another account's rights, a file another program holds
        return ("piece_illisible", {"detail": name, "raison": why(exc)}), 0
    fmt = row["formatFichier"]
    if size == 0:
        return ("piece_vide", {"detail": name}), 0
    late = head.find(MAGIC["PDF"][0]) if fmt == "PDF" and not head.startswith(MAGIC[fmt]) else -1
    if not head.startswith(MAGIC[fmt]) and late < 0:
        actual = _format_of(head)
        if actual is None:
            return ("piece_format_incorrect", {"detail": name, "format": fmt}), size
        # a PNG saved under .pdf: declaring PNG changes its regulatory name (.png), so the
        # advice gives that name, or fichierSource to keep the file's own
        renamed = PurePosixPath(row["nomFichier"]).with_suffix(f".{actual.lower()}").name
        return ("piece_autre_format", {"detail": name, "format": fmt, "reel": actual, "nom_reel": renamed}), size
    if size > limit:
        return ("piece_trop_lourde", {"detail": name, "taille": megabytes(size), "max": megabytes(limit)}), size
    if late > 0:
        return ("piece_pdf_entete_decale", {"detail": name, "octets": late}), size
    return None, size


def _refused(problem: tuple[str, dict[str, Any]] | None) -> bool:
    """Whether `problem` (_fault's) keeps the piece out: an error, not a warning."""
    return problem is not None and severity(problem[0]) is Severity.ERROR


def _issue(code: str, row: dict[str, Any], definition: FormatDefinition, pieces_letter: str | None,
           file: str, **params: Any) -> Issue:
    """Point at the Pièces row when the user named the file there, else at the demande row."""
    typed = row["fichierSource"]
    label = next((t.label for t in definition.attachments.types if t.type == row["typeFichier"]), row["typeFichier"])
    text = message(code, piece=f"{row['typeFichier']} ({label})", nom=row["nomFichier"], **params)
    pieces_sheet = next((s.name for s in definition.sheets if s.alias == PIECES_ALIAS), None)
    if typed is not None and row["piece_row"] is not None:
        return Issue(code=code, message=text, severity=severity(code), sheet=pieces_sheet, row=row["piece_row"],
                     column=pieces_letter, balise=SOURCE_COLUMN, value=typed,
                     numero_editeur=row[NE], file=file)
    return Issue(code=code, message=text, severity=severity(code), sheet=definition.demandes.name,
                 row=row["demande_row"], balise=None, value=row["nomFichier"], numero_editeur=row[NE], file=file)


def missing_folder(folder: Path) -> str:
    return (f"Le dossier des pièces « {folder} » n'existe pas : indiquez avec --pieces "
            "le dossier qui contient les pièces justificatives.")


def collect(checked: Checked, records: list[dict[str, Any]], folder: Path,
            file: str) -> tuple[dict[str, list[Attachment]], list[Issue]]:
    """Check every declared attachment in `folder`.

    Returns (numeroEditeur → its attachments, for the demandes whose attachments are all
    good; issues for the others). A demande appears in exactly one of the two.
    """
    definition = checked.definition
    folder = Path(folder)
    if not folder.is_dir():
        raise OutputError(missing_folder(folder))
    root = folder.resolve()
    limit = max_attachment_bytes(definition)
    pieces_sheet = next((s for s in definition.sheets if s.alias == PIECES_ALIAS), None)
    letter = checked.raw.letter(pieces_sheet.name, SOURCE_COLUMN) \
        if pieces_sheet is not None and SOURCE_COLUMN in pieces_sheet.by_balise else None
    good: dict[str, list[Attachment]] = {}
    issues: list[Issue] = []
    listing = _Folder(root)
    served: dict[object, dict[str, Any]] = {}  # a file (its identity) → the first piece it is
    for row in expected(checked, records).iter_rows(named=True):
        typed = row["fichierSource"] or row["nomFichier"]
        source, name, problem = listing.find(typed)
        if _other_name(typed, name):  # found under a name close to the one typed or regulatory (_Folder.find)
            issues.append(_issue(_approaching(typed, name), row, definition, letter, file, detail=typed, fichier=name))
        if problem is None:
            problem, size = _fault(source, name, row, limit)
        if problem is not None:
            issues.append(_issue(problem[0], row, definition, letter, file, **problem[1]))
        if not _refused(problem):
            good.setdefault(row[NE], []).append(Attachment(row[NE], row["nomFichier"], source, size))
            first = served.setdefault(_identity(source), row)
            if first is not row:  # one file, two pieces (on Windows and macOS, names that differ by case too)
                issues.append(_issue("piece_partagee", row, definition, letter, file, detail=name, autre=first[NE],
                                     autre_piece=first["typeFichier"], autre_nom=first["nomFichier"]))
    bad = {i.numero_editeur for i in issues if i.is_error}
    return {ne: found for ne, found in good.items() if ne not in bad}, issues


def of_document(document: dict[str, Any], folder: Path,
                definition: FormatDefinition) -> tuple[list[Attachment], list[Issue]]:
    """The attachments a recorded deposit file declares (its format's balise), looked for in
    `folder` under their nomenclature names (`xl2segur reecrire --pieces`), and warnings: as
    `collect` does, a name that differs only by case or Unicode form finds its file. (The
    ledger keeps the deposit file, not the workbook's fichierSource: a file kept under a name
    of its own is not found.) OutputError, in French, naming every attachment missing or wrong."""
    folder = Path(folder)
    if not folder.is_dir():
        raise OutputError(missing_folder(folder))
    root, limit = folder.resolve(), max_attachment_bytes(definition)
    found, problems, notes = [], [], []
    listing = _Folder(root)
    for line in document.get(LINES, []):
        for piece in line.get(definition.attachments.balise) or []:  # as the ASP spells it, per format
            regulatory = piece["nomFichier"]
            label = next((t.label for t in definition.attachments.types if t.type == piece["typeFichier"]),
                         piece["typeFichier"])
            params = {"piece": f"{piece['typeFichier']} ({label})", "nom": regulatory}
            source, name, problem = listing.find(regulatory)
            if _other_name(regulatory, name):
                code = _approaching(regulatory, name)
                text = message(code, detail=regulatory, fichier=name, **params)
                notes.append(Issue(code=code, message=f"demande {line['numeroEditeur']} : {text}",
                                   severity=severity(code), numero_editeur=line["numeroEditeur"]))
            if problem is None:
                problem, size = _fault(source, name, piece, limit)
            if _refused(problem) or source is None:
                problems.append(f"demande {line['numeroEditeur']} : " + message(problem[0], **params, **problem[1]))
                continue
            found.append(Attachment(line["numeroEditeur"], regulatory, source, size))
            if problem is not None:
                notes.append(Issue(code=problem[0], severity=severity(problem[0]), numero_editeur=line["numeroEditeur"],
                                   message=f"demande {line['numeroEditeur']} : "
                                           + message(problem[0], **params, **problem[1])))
    if problems:
        raise OutputError(f"Les pièces du dossier « {folder} » ne permettent pas de réécrire les archives : "
                          + " ; ".join(problems))
    return found, notes


def _member_bytes(attachment: Attachment) -> int:
    name = len(attachment.name.encode("utf-8"))
    return _ZIP_LOCAL + _ZIP_CENTRAL + 2 * name + attachment.size


def split(attachments: Iterable[Attachment], limit: int) -> list[list[Attachment]]:
    """Pack the attachments, in order, into archives of at most `limit` bytes each."""
    parts: list[list[Attachment]] = []
    size = limit + 1
    for item in attachments:
        need = _member_bytes(item)
        if need + _ZIP_END > limit:
            raise OutputError(f"La pièce « {item.name} » ne tient pas dans une archive de {megabytes(limit)}.")
        if size + need > limit:
            parts.append([])
            size = _ZIP_END
        parts[-1].append(item)
        size += need
    return parts


def zip_names(deposit_file: Path, count: int) -> list[Path]:
    """
    >>> [p.name for p in zip_names(Path("JSON-0123456789-20240312-001.json"), 3)]
    ['JSON-0123456789-20240312-001.zip', 'JSON-0123456789-20240312-001-2.zip', 'JSON-0123456789-20240312-001-3.zip']
    """
    stem = deposit_file.with_suffix("")
    return [stem.with_name(f"{stem.name}{'' if n == 1 else f'-{n}'}.zip") for n in range(1, count + 1)]


def write_zips(deposit_file: Path, attachments: list[Attachment], definition: FormatDefinition,
               day: date, kept: list[Path] | None = None) -> list[Path]:
    """The zip archive(s) of one deposit file's attachments; stored members (PDF, PNG and JPG
    are already compressed), so that each archive's size is known before it is written. Each
    member is dated `day` (the deposit day), with ordinary rights: the same pieces make the
    same bytes, whatever the dates and rights of their files (a file dated before 1980, which
    zip cannot record, included).

    `kept` (`reecrire`): an archive already there with the bytes these pieces give is left as
    it is and listed there; one with other bytes, OutputError (never written over)."""
    if not attachments:
        return []
    limit = max_zip_bytes(definition)
    parts = split(attachments, limit)
    written: list[Path] = []
    try:
        for target, part in zip(zip_names(deposit_file, len(parts)), parts):
            if kept is not None and target.exists():
                if not _holds_zip(target, part, day):
                    raise OutputError(
                        f"L'archive « {target.name} » existe déjà avec un autre contenu que l'archive des pièces du "
                        f"dossier (une pièce a changé depuis qu'elle a été écrite) : elle n'est jamais écrasée, et "
                        "rien n'est écrit. Si elle a été déposée, gardez-la ; sinon déplacez-la, ou réécrivez "
                        "ailleurs (-o DOSSIER).")
                kept.append(target)
                continue
            written.append(write_new(target, _zip_writer(target, part, limit, day)))
    except BaseException:  # all the archives of a deposit file, or none
        for archive in written:
            archive.unlink(missing_ok=True)
        raise
    return written


def _zip_into(out: Path | io.BytesIO, part: list[Attachment], day: date) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        for item in part:
            info = zipfile.ZipInfo(item.name, date_time=(day.year, day.month, day.day, 0, 0, 0))
            info.create_system, info.external_attr = 3, 0o100644 << 16  # a file, rw-r--r--, on any system
            with item.source.open("rb") as source, zf.open(info, "w") as member:
                shutil.copyfileobj(source, member, 1 << 20)
            if info.file_size != item.size:  # replaced since it was checked (size, format, content unknown)
                mine = f" (fichier « {item.source.name} »)" if item.source.name != item.name else ""
                raise OutputError(f"La pièce « {item.name} »{mine} a changé depuis sa vérification "
                                  "(un scanner ou un dossier synchronisé l'a réécrite ?) : attendez qu'elle soit "
                                  "complète, puis relancez la commande.")


def _holds_zip(target: Path, part: list[Attachment], day: date) -> bool:
    """Whether the file `target` is, byte for byte, the archive of `part` (200 Mo at most)."""
    made = io.BytesIO()
    _zip_into(made, part, day)
    return target.is_file() and target.stat().st_size == made.tell() and target.read_bytes() == made.getvalue()


def _zip_writer(target: Path, part: list[Attachment], limit: int, day: date) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        _zip_into(tmp, part, day)
        if os.path.getsize(tmp) > limit:  # a source file changed since it was checked
            raise OutputError(f"L'archive « {target.name} » dépasserait {megabytes(limit)} : une pièce a "
                              "changé pendant la conversion. Relancez la conversion.")
    return write

