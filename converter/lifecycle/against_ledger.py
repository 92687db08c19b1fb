"""What a conversion checks against the ledger: a demande deposited already, a numeroEditeur
reused for another demande, a rejected numeroEditeur coming back, and a solde compared with its
avance: its amount (the demande's `amount` balise) may not exceed the avance's, and the values
of every `finess` balise of a sheet both formats share must be those of the avance (seed 000:
« identiques à ce qui a été indiqué lors de l'avance »)."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from ..checks import NE, Checked
from ..checks.rules import OTHERS_NAMED, others_said
from ..formats import FormatDefinition, all_formats, numero_formats
from ..issues import Issue, Severity, issue, message
from ..ledger import DEPOSEE, REJETEE, RETIREE, STATE_SAID, DamagedLedger, Ledger
from ..reading import HEADER_SHEET, ROW
from .advances import euros_said
from .facts import demande_facts
from .rows import amount_balise, json_values, rows_from_json


def _demande_issue(checked: Checked, code: str, severity: Severity, rows: pl.DataFrame, *,
                   balise: str | None = None, **params: Any) -> list[Issue]:
    """One issue per row of `rows` (NE, ROW, value, detail columns), on the Demandes sheet."""
    definition = checked.definition
    sheet = definition.demandes
    letter = checked.raw.letter(sheet.name, balise) if balise else None
    return [Issue(code=code, message=message(code, **{**params, **r}), severity=severity, sheet=sheet.name,
                  row=r[ROW], column=letter, balise=balise, value=r.get("value"), numero_editeur=r[NE],
                  file=str(checked.raw.path))
            for r in rows.iter_rows(named=True)]


def ledger_issues(checked: Checked, book: Ledger, accepted: list[str]) -> list[Issue]:
    """Issues on accepted demandes that only the ledger can see.

    - `deja_deposee`: the numeroEditeur was deposited and not rejected, in this format or in
      one sharing its numeroEditeur (`numero_formats`: the other variant of the couloir),
      and it is the same demande (`reused_numeros`): nothing to correct;
    - `numero_reutilise`: the same, but the demande deposited under that number is another
      one: this one needs a number of its own;
    - `rejetee_nouveau_numero`, where the definition says `new_numero_after_rejection`: the
      ASP rejected that numeroEditeur, and a rejected demande comes back under a new one.
    """
    definition = checked.definition
    numero_ans = checked.frames[HEADER_SHEET]["numeroAns"][0]
    keep = pl.Series(accepted, dtype=pl.String).implode()
    demandes = checked.frames[definition.demandes.name].filter(pl.col(NE).is_in(keep))
    found: list[Issue] = []
    family = numero_formats(definition.id)
    live = book.live_deposits(family, numero_ans, accepted)
    reused = reused_numeros(checked, live)
    same = {ne: _named(r) for ne, r in live.items() if ne not in set(reused[NE])}
    found += _numero_issue(checked, "deja_deposee", demandes, same)
    found += _demande_issue(checked, "numero_reutilise", Severity.ERROR, demandes.join(reused, on=NE).select(
        NE, ROW, "fichier", "autre", "celle", value=pl.col(NE), detail=pl.col(NE)), balise="numeroEditeur")
    refused = set(live)
    if definition.new_numero_after_rejection:
        rejected = book.rejected_deposits(family, numero_ans, [ne for ne in accepted if ne not in live])
        found += _numero_issue(checked, "rejetee_nouveau_numero", demandes, rejected)
        refused |= set(rejected)
    if definition.nature == "solde":
        found += solde_issues(checked, book, demandes.filter(~pl.col(NE).is_in(list(refused))), numero_ans)
    found += case_issues(checked, book, demandes, numero_ans)
    if definition.nature == "avance":
        found += client_issues(checked, book, [ne for ne in accepted if ne not in refused], numero_ans)
    return found


def case_issues(checked: Checked, book: Ledger, demandes: pl.DataFrame, numero_ans: str) -> list[Issue]:
    """`doublon_casse_registre`: a warning on each demande whose numeroEditeur differs by case only
    from one the ledger holds (withdrawn ones aside), in a format sharing its numbers, or, for a
    solde, in its avance's (seed 000: « C'est le même numéro renseigné pour l'avance que pour le
    solde »); as two of one workbook (`doublon_casse`): seed 001 says the numéro éditeur is « au
    format alphanumérique », not whether the ASP tells « ab12c » from « AB12C », so it is kept;
    their pieces' names would differ by case only, one name for Windows and macOS."""
    definition = checked.definition
    if not book.holds_numero_ans(numero_ans):
        return []  # a first conversion: 100,000 numbers are not looked up for nothing (0.1 to 0.15 s)
    formats = {*numero_formats(definition.id), *(f for d in avance_formats(definition.id) for f in numero_formats(d.id))}
    twins = book.case_twins(sorted(formats), numero_ans, demandes[NE].to_list())
    if not twins:
        return []
    said = {ne: " ; ".join(f"{r['numero_editeur']} ({r['nature']}, fichier {r['nom']}, {STATE_SAID[r['statut']]})"
                           for r in rows) for ne, rows in twins.items()}
    rows = demandes.filter(pl.col(NE).is_in(pl.Series(list(twins), dtype=pl.String).implode())).select(
        NE, ROW, value=pl.col(NE), detail=pl.col(NE).replace_strict(said))
    return _demande_issue(checked, "doublon_casse_registre", Severity.WARNING, rows, balise="numeroEditeur")


def client_issues(checked: Checked, book: Ledger, numeros: list[str], numero_ans: str) -> list[Issue]:
    """A warning on each value of these demandes, under a column a rule `une_seule_demande` of the
    format checks in the workbook (an OG's FINESSJuridique, an ESMS's FINESSGeo), that a live avance
    of the ledger, of the same format and numeroAns, under another numeroEditeur, names already:
    its `registre` code (`og_deja_en_cours`, `esms_deja_en_cours`). Seed 001 §3.1, « La demande de
    financement ne comporte qu'un seul bon de commande pour les ESMS éligibles au SONS de
    l'organisme gestionnaire », and seed 000 §3.1, « Le client final est un ESSMS identifié par son
    FINESS géographique »: accepted both, an ESMS would be funded twice, an OG would have two
    orders. A description, not a prohibition in so many words: kept, said, as two demandes of one
    workbook naming it (`une_seule_demande`), whether they are in one workbook or converted one
    after the other. A rejected or withdrawn avance funds no one: its OG and ESMS may come back
    under a new number, as seed 001 asks."""
    definition = checked.definition
    checks = [(sheet, rule.get("column"), rule.get("registre")) for sheet in definition.sheets for rule in sheet.rules
              if rule.rule == "une_seule_demande" and rule.get("registre")]
    if not checks or not numeros or not book.holds_numero_ans(numero_ans):
        return []  # a first conversion: the FINESS of every row are not gathered for nothing (0.1 to 0.25 s)
    keep = pl.Series(numeros, dtype=pl.String).implode()
    wanted = {key: checked.frames[sheet.name].filter(pl.col(NE).is_in(keep) & pl.col(key).is_not_null())
              for sheet, key, _ in checks}
    mine = {value for key, rows in wanted.items() for value in rows[key].to_list()}
    if not (live := book.live_naming(definition.id, numero_ans, numeros, mine)):
        return []
    found: list[Issue] = []
    for sheet, key, code in checks:
        rows = wanted[key]
        held: dict[str, list[str]] = {}
        for r in live:
            for value in sorted(_values(book, r, key) & set(rows[key].to_list())):
                held.setdefault(value, []).append(f"{r['numero_editeur']} (fichier {r['nom']}, {STATE_SAID[r['statut']]})")
        if not held:
            continue
        letter = checked.raw.letter(sheet.name, key)
        # one ESMS in a thousand avances: not a thousand names a row
        said = {value: others_said(avances[:OTHERS_NAMED], len(avances[OTHERS_NAMED:]), "l'avance", "les avances")
                for value, avances in held.items()}
        found += [issue(code, key=r[key], detail=said[r[key]], sheet=sheet.name, row=r[ROW], column=letter,
                        balise=key, value=r[key], numero_editeur=r[NE], file=str(checked.raw.path))
                  for r in rows.filter(pl.col(key).is_in(list(held))).iter_rows(named=True)]
    return found


def _values(book: Ledger, row: sqlite3.Row, key: str) -> set[str]:
    """The values of `key` in the recorded demande `row`; every FINESS the ledger holds of it
    (`demandes.finess`) when its file's stored copy no longer reads back: a warning found in
    every FINESS of the demande rather than none, the conversion not refused for a copy it
    does not need (ledger.readable)."""
    try:
        return json_values(book.demande(row), key)
    except DamagedLedger:
        return set(orjson.loads(row["finess"]))


def _named(row: sqlite3.Row) -> str:
    """The deposit file of a live demande, as the messages name it. Still pending, it may be
    nowhere on disk (a conversion killed before naming it, elsewhere): where to settle it."""
    if row["en_attente"] is None:
        return row["nom"]
    return (f"{row['nom']}, pas encore marqué écrit : une autre conversion l'écrit dans le dossier "
            f"« {Path(row['chemin']).parent} », ou y a été interrompue ; une conversion dans ce dossier remet "
            "d'accord le registre, et libère la demande si le fichier n'y a pas reçu son nom")


def _numero_issue(checked: Checked, code: str, demandes: pl.DataFrame, files: dict[str, str]) -> list[Issue]:
    """One error on the numeroEditeur cell of each demande of `files` (numeroEditeur → deposit file)."""
    if not files:
        return []
    rows = demandes.filter(pl.col(NE).is_in(pl.Series(list(files), dtype=pl.String).implode())).select(
        NE, ROW, value=pl.col(NE), detail=pl.col(NE), fichier=pl.col(NE).replace_strict(files))
    return _demande_issue(checked, code, Severity.ERROR, rows, balise="numeroEditeur")


def _described(suffix: str = "") -> pl.Expr:
    """« montant HT 4866.67, FINESS 123456789, 234567891 » from `demande_facts` columns."""
    parts = [pl.format("montant HT {}", pl.col(f"montant{suffix}"))]
    parts += [pl.when(pl.col(f"{kind}{suffix}").list.len() > 0)
              .then(pl.format(f"{kind.upper()} {{}}", pl.col(f"{kind}{suffix}").list.join(", ")))
              for kind in ("finess", "rpps")]
    return pl.concat_str(parts, separator=", ", ignore_nulls=True)


def reused_numeros(checked: Checked, live: dict[str, sqlite3.Row]) -> pl.DataFrame:
    """NE, fichier, autre, celle: the numeroEditeur of `live` (deposited, not rejected) the
    ledger holds for another demande than the workbook's, with both described.

    Seed 001: « Ce numéro unique généré par l'éditeur sert à relier une demande à ses PJ
    associées ». The same demande is told by its content, as the ledger holds it: the same
    amount, the same FINESS and the same RPPS. A solde is never « another demande »: seed 000,
    « C'est le même numéro renseigné pour l'avance que pour le solde », so a second solde under
    that number is the same avance's solde, already deposited."""
    schema = {NE: pl.String, "fichier": pl.String, "autre": pl.String, "celle": pl.String}
    definition = checked.definition
    if not live or definition.nature == "solde":
        return pl.DataFrame(schema=schema)
    keep = pl.Series(list(live), dtype=pl.String).implode()
    mine = demande_facts(definition, {s.name: checked.frames[s.name].filter(pl.col(NE).is_in(keep))
                                      for s in definition.sheets})
    theirs = pl.DataFrame(
        [{NE: ne, "fichier": r["nom"], "montant": r["montant"], "finess": r["finess"], "rpps": r["rpps"]}
         for ne, r in live.items()], schema={NE: pl.String, "fichier": pl.String, "montant": pl.String,
                                             "finess": pl.String, "rpps": pl.String},
    ).with_columns(pl.col("finess", "rpps").str.json_decode(pl.List(pl.String)))
    both = mine.join(theirs, on=NE, suffix="_registre")
    same = pl.all_horizontal(pl.col(c).eq_missing(pl.col(f"{c}_registre")) for c in ("montant", "finess", "rpps"))
    return both.filter(~same).select(NE, "fichier", autre=_described("_registre"), celle=_described())


def avance_formats(solde_format: str) -> list[FormatDefinition]:
    return [d for d in all_formats().values() if d.solde_format == solde_format]


def solde_issues(checked: Checked, book: Ledger, demandes: pl.DataFrame, numero_ans: str) -> list[Issue]:
    """A solde against its avance in the ledger (FORMATS.md §3: amount, OG and FINESS).

    Only when xl2segur produces the avances of this solde (a definition names it as its
    `solde_format`): otherwise no avance can be in the ledger, and « avance inconnue » on
    every demande would say nothing (mdv-lgc-solde: no MDV avance format)."""
    definition = checked.definition
    formats = {d.id: d for d in avance_formats(definition.id)}
    if not formats:
        return []
    # the avance is looked for in every avance format sharing its numeroEditeur: one of another
    # variant (a DUI PDS avance, for a DUI PDE solde) is not « unknown »
    family = sorted({f for d in formats.values() for f in numero_formats(d.id)})
    avances = book.avances_for_solde(family, numero_ans, demandes[NE].to_list())
    known = pl.DataFrame(
        [{NE: ne, "avance_montant": r["montant"], "avance_asp": r["numero_asp"], "statut": r["statut"],
          "detail": f"{ne}, fichier {r['fichier']}", "fichier": r["fichier"], "format": r["format"],
          "retire_le": date.fromisoformat(r["retire_le"]).strftime("%d/%m/%Y") if r["retire_le"] else None}
         for ne, r in avances.items()],
        schema={NE: pl.String, "avance_montant": pl.String, "avance_asp": pl.String, "statut": pl.String,
                "detail": pl.String, "fichier": pl.String, "format": pl.String, "retire_le": pl.String},
    )
    rows = demandes.join(known, on=NE, how="left")
    unknown = rows.filter(pl.col("statut").is_null())
    # seed 000 §3.4: « Il est possible de grouper les demandes de solde dans un seul fichier JSON de
    # type solde à partir du moment où toutes les demandes correspondent au même numéro de
    # référencement ANS » (that of their avances): an avance of that numeroEditeur under another
    # numeroAns is not « unknown ». Its numéro ASP on the solde proves it is that avance's solde,
    # not deposited under this numeroAns; without it, another software of the editor may reuse
    # the numeroEditeur (the seeds say nothing against it): said, and kept
    asp = next((f.balise for f in definition.demandes.fields if f.kind == "numero_asp"), None)
    elsewhere = book.avances_for_solde(family, numero_ans, unknown[NE].to_list(), other_ans=True)
    there = unknown.filter(pl.col(NE).is_in(pl.Series(list(elsewhere), dtype=pl.String).implode())).with_columns(
        numero_ans=pl.lit(numero_ans),
        avance_ans=pl.col(NE).replace_strict({ne: r["numero_ans"] for ne, r in elsewhere.items()}, default=None),
        fichier=pl.col(NE).replace_strict({ne: r["fichier"] for ne, r in elsewhere.items()}, default=None),
        avance_asp=pl.col(NE).replace_strict({ne: r["numero_asp"] for ne, r in elsewhere.items()}, default=None))
    same = (pl.col(asp) == pl.col("avance_asp")).fill_null(False) if asp else pl.lit(False)
    said = (NE, ROW, "numero_ans", "avance_ans", "fichier")
    found = _demande_issue(checked, "solde_autre_numero_ans", Severity.ERROR,
                           there.filter(same).select(*said, detail=pl.col(NE)))
    found += _demande_issue(checked, "solde_avance_sous_autre_numero_ans", Severity.WARNING,
                            there.filter(~same).select(*said, detail=pl.col(NE)))
    found += _demande_issue(checked, "solde_avance_inconnue", Severity.WARNING, unknown.filter(
        ~pl.col(NE).is_in(pl.Series(list(elsewhere), dtype=pl.String).implode())).select(NE, ROW, detail=pl.col(NE)))
    rows = rows.filter(pl.col("statut").is_not_null())
    formats_of = {d.id: d.solde_format for d in all_formats().values() if d.id in family}
    other = rows.filter(~pl.col("format").is_in(list(formats)))
    found += _demande_issue(checked, "solde_autre_format", Severity.ERROR, other.select(
        NE, ROW, "detail", "format", solde=pl.col("format").replace_strict(formats_of, default=None),
        ce_format=pl.lit(definition.id)))
    rows = rows.filter(pl.col("format").is_in(list(formats)))
    avances = {ne: r for ne, r in avances.items() if r["format"] in formats}
    found += _demande_issue(checked, "solde_avance_rejetee", Severity.ERROR,
                            rows.filter(pl.col("statut") == REJETEE).select(NE, ROW, "detail"))
    # withdrawn (`xl2segur retirer`): the user said it would never be uploaded, so the ASP has no
    # avance to pay a solde for (seed 000: « Il doit avoir fait l'objet d'une demande d'avance dont
    # le paiement a été effectué »); not « unknown »: uploaded after all, its withdrawal is undone
    found += _demande_issue(checked, "solde_avance_retiree", Severity.ERROR,
                            rows.filter(pl.col("statut") == RETIREE).select(NE, ROW, "detail", "fichier", "retire_le"))
    rows = rows.filter(~pl.col("statut").is_in([REJETEE, RETIREE]))
    found += _demande_issue(checked, "solde_avance_sans_retour", Severity.WARNING,
                            rows.filter(pl.col("statut") == DEPOSEE).select(NE, ROW))
    amount = amount_balise(definition.demandes)
    if amount:
        over = rows.filter(pl.col(amount).cast(pl.Decimal(scale=2)) > pl.col("avance_montant").cast(pl.Decimal(scale=2)))
        found += _demande_issue(checked, "solde_montant_superieur", Severity.ERROR, over.select(
            NE, ROW, value=pl.col(amount).cast(pl.String),
            detail=pl.concat_str(pl.lit("avance "), pl.col("detail"), pl.lit(" : "), euros_said(pl.col("avance_montant")))),
            balise=amount)
    if asp:
        wrong = rows.filter(pl.col("avance_asp").is_not_null() & (pl.col(asp) != pl.col("avance_asp")))
        found += _demande_issue(checked, "solde_numero_asp_different", Severity.ERROR, wrong.select(
            NE, ROW, value=pl.col(asp),
            detail=pl.concat_str(pl.col("detail"), pl.lit(", numéro ASP "), pl.col("avance_asp"))), balise=asp)
    found += _finess_issues(checked, book, {ne: r for ne, r in avances.items() if r["statut"] not in (REJETEE, RETIREE)},
                            formats)
    return found


def _finess_balises(definition: FormatDefinition, sheet_name: str) -> list[str]:
    sheet = definition.by_name.get(sheet_name)
    return [f.balise for f in sheet.fields if f.kind == "finess"] if sheet else []


def _finess_issues(checked: Checked, book: Ledger, avances: dict[str, sqlite3.Row],
                   formats: dict[str, FormatDefinition]) -> list[Issue]:
    """The FINESS of a solde are those of its avance, each under the same FINESS as in the
    avance: a FINESS géographique is compared with the FINESS juridique before it in its row
    (`ctx`), so one moved from an OG to another is seen."""
    definition = checked.definition
    if not avances:
        return []
    schema = {NE: pl.String, "sheet": pl.String, "balise": pl.String, "v": pl.String, "ctx": pl.String}
    theirs, shared = [], {}
    for ne, row in avances.items():
        avance = formats[row["format"]]
        for name, rows in rows_from_json(avance, book.demande(row)).items():
            in_avance = set(_finess_balises(avance, name))
            shared[name] = both = [b for b in _finess_balises(definition, name) if b in in_avance]
            theirs += [{NE: ne, "sheet": name, "balise": b, "v": r.get(b),
                        "ctx": ", ".join(f"{p} {r[p]}" for p in both[:i] if r.get(p))}
                       for r in rows for i, b in enumerate(both)]
    theirs_frame = pl.DataFrame(theirs, schema=schema).filter(pl.col("v").is_not_null()).unique()
    mine = []
    for sheet in definition.sheets:
        both = [b for b in shared.get(sheet.name, []) if b in sheet.by_balise]
        for i, b in enumerate(both):
            ctx = pl.concat_str([pl.format(f"{p} {{}}", pl.col(p)) for p in both[:i]], separator=", ",
                                ignore_nulls=True) if i else pl.lit("")
            mine.append(checked.frames[sheet.name].select(
                NE, ROW, sheet=pl.lit(sheet.name), balise=pl.lit(b), v=pl.col(b), ctx=ctx))
    if not mine:
        return []
    numeros = pl.Series(list(avances), dtype=pl.String).implode()
    mine_frame = pl.concat(mine).filter(pl.col(NE).is_in(numeros) & pl.col("v").is_not_null())
    theirs_frame = theirs_frame.join(mine_frame.select("sheet", "balise").unique(), on=["sheet", "balise"])
    keys = [NE, "sheet", "balise", "v", "ctx"]
    extra = mine_frame.join(theirs_frame, on=keys, how="anti", nulls_equal=True)
    missing = theirs_frame.join(mine_frame.select(keys).unique(), on=keys, how="anti", nulls_equal=True)
    details = {ne: f"{ne}, fichier {r['fichier']}" for ne, r in avances.items()}
    found = [Issue(code="solde_finess_hors_avance",
                   message=message("solde_finess_hors_avance", detail=details[r[NE]],
                                   balise=r["balise"] + (f" (avec {r['ctx']})" if r["ctx"] else "")),
                   severity=Severity.ERROR, sheet=r["sheet"], row=r[ROW],
                   column=checked.raw.letter(r["sheet"], r["balise"]), balise=r["balise"], value=r["v"],
                   numero_editeur=r[NE], file=str(checked.raw.path))
             for r in extra.iter_rows(named=True)]
    demande_rows = checked.frames[definition.demandes.name].select(NE, ROW).unique(NE, keep="first")
    shown = pl.when(pl.col("ctx") == "").then(pl.col("v")).otherwise(pl.format("{} (avec {})", "v", "ctx"))
    found += _demande_issue(checked, "solde_finess_manquant", Severity.ERROR, missing.join(demande_rows, on=NE).select(
        NE, ROW, "balise", "sheet", value=shown, detail=pl.col(NE).replace_strict(details)))
    return found
