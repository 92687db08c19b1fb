"""The pre-filled solde workbook, from the accepted avances of the ledger: a solde sheet is
pre-filled from the avance sheet of the same name (the Demandes sheets match by role), column
by column for the balises both have; the balise of kind `numero_asp` receives the numeroASP
the ASP gave to the avance."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from ..formats import FormatDefinition, all_formats, get_format, numero_formats
from ..ledger import ACCEPTEE, Ledger, LedgerError
from ..workbook import write_workbook
from .against_ledger import avance_formats
from .rows import PIECES_ALIAS, rows_from_json


def _solde_definition(format_id: str) -> tuple[list[FormatDefinition], FormatDefinition]:
    """(avance formats, solde format) from either an avance or a solde format id."""
    definition = get_format(format_id)
    if definition.nature == "solde":
        avances = avance_formats(definition.id)
        if not avances:
            raise LedgerError(f"Aucun format d'avance de xl2segur ne mène au solde « {format_id} » : "
                              "le registre ne peut pas le pré-remplir.")
        return avances, definition
    if not definition.solde_format:
        raise LedgerError(f"Le format « {format_id} » n'a pas de format de solde : indiquez avec --format un "
                          "format d'avance (par exemple ms2-dui-pds-avance).")
    return [definition], get_format(definition.solde_format)


def solde_formats_in(book: Ledger) -> list[str]:
    """Avance formats of the ledger that have accepted avances and a solde format."""
    found = book.db.execute("SELECT DISTINCT format FROM demandes WHERE nature = 'avance' AND statut = ? "
                            "ORDER BY format", (ACCEPTEE,)).fetchall()
    formats = all_formats()
    return [r[0] for r in found if r[0] in formats and formats[r[0]].solde_format]


def solde_rows(avance: FormatDefinition, solde: FormatDefinition, row: sqlite3.Row, demande: dict[str, Any],
               previous: tuple[FormatDefinition, dict[str, Any]] | None = None) -> dict[str, list[dict[str, str | None]]]:
    """The solde rows of one accepted avance (`row` of the ledger, `demande` as deposited):
    shared balises copied, numeroASP filled. `previous`: (format, demande as deposited) of its
    solde the ASP rejected; its rows, invoice date and amount included, are copied instead."""
    origin, data = previous or (avance, demande)
    source = rows_from_json(origin, data)
    asp = next((f.balise for f in solde.demandes.fields if f.kind == "numero_asp"), None)
    out: dict[str, list[dict[str, str | None]]] = {}
    for sheet in solde.sheets:
        mine = origin.demandes if sheet.role == "demandes" else origin.by_name.get(sheet.name)
        if mine is None or sheet.alias == PIECES_ALIAS:
            continue
        out[sheet.name] = [{b: r.get(b) for b in sheet.balises if b in mine.by_balise} for r in source[mine.name]]
    if asp:
        for r in out[solde.demandes.name]:
            r[asp] = row["numero_asp"]
    return out


class SoldeWorkbook(tuple):
    """(workbook, number of demandes), as callers unpack it; `refilled`: how many of them got
    back the values of their solde the ASP rejected (invoice date and amount already filled)."""

    refilled: int

    def __new__(cls, path: Path, count: int, refilled: int = 0) -> SoldeWorkbook:
        self = super().__new__(cls, (path, count))
        self.refilled = refilled
        return self


def write_solde_workbooks(book: Ledger, format_id: str | None, output: Path) -> tuple[str | None, list[SoldeWorkbook]]:
    """One pre-filled solde workbook per (numeroAns, SIRET) of the accepted avances; an avance
    whose solde the ASP rejected gets that solde's values back (invoice date and amount…).

    Returns (solde format id, [SoldeWorkbook: (workbook, number of demandes)]); no workbook when no accepted
    avance with a numeroASP awaits its solde — then, without `format_id` and with no
    accepted avance at all in the ledger, (None, []).
    """
    if format_id is None:
        choices = solde_formats_in(book)
        if not choices:
            return None, []
        if len(choices) > 1:
            raise LedgerError(f"Indiquez avec --format le format d'avance dont préparer les soldes "
                              f"(formats d'avance acceptées dans le registre : {', '.join(choices)}).")
        format_id = choices[0]
    avances, solde = _solde_definition(format_id)
    groups: dict[tuple[str, str], dict[str, list[dict[str, str | None]]]] = {}
    counts: dict[tuple[str, str], int] = {}
    refilled: dict[tuple[str, str], int] = {}
    by_id = {a.id: a for a in avances}
    formats = all_formats()
    family = numero_formats(solde.id)
    for avance in avances:
        waiting = book.accepted_avances(avance.id, family)
        rejected: dict[tuple[str, str], sqlite3.Row] = {}
        for numero_ans in {r["numero_ans"] for r in waiting}:
            numeros = [r["numero_editeur"] for r in waiting if r["numero_ans"] == numero_ans]
            rejected |= {(numero_ans, ne): r for ne, r in book.rejected_rows(family, numero_ans, numeros).items()}
        # read file by file (the ledger keeps the last file read), before the avances
        previous = {key: (formats[r["format"]], book.demande(r)) for key, r in sorted(rejected.items(), key=lambda kv: kv[1]["id"])}
        for row in waiting:
            key = (row["numero_ans"], row["siret"])
            sheets = groups.setdefault(key, {})
            before = previous.get((row["numero_ans"], row["numero_editeur"]))
            for name, rows in solde_rows(by_id[row["format"]], solde, row, book.demande(row), before).items():
                sheets.setdefault(name, []).extend(rows)
            counts[key] = counts.get(key, 0) + 1
            refilled[key] = refilled.get(key, 0) + (before is not None)
    written = []
    for (numero_ans, siret), rows in groups.items():
        target = Path(output) / f"solde-{solde.id}-{numero_ans}.xlsx"
        path = write_workbook(solde, target, header={"numeroAns": numero_ans, "SIRET": siret}, rows=rows, numbered=True,
                              typed=True)
        written.append(SoldeWorkbook(path, counts[(numero_ans, siret)], refilled[(numero_ans, siret)]))
    return solde.id, written
