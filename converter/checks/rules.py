"""Generic row rules declared in a definition (`rules:` under a sheet), run after the
per-column and cross-sheet checks.

Each rule of the registry takes a `RuleContext` (the sheet's normalised frame, the Entête
values, the cells already in error) and the declared `RowRule`, whose parameters name the
columns to read, and returns issue rows (ISSUE_SCHEMA). Column work is done in Polars;
where a funding function of `converter.funding` is reused (the caps), it is called once per
distinct combination of parameters, never once per row, and the result is joined back.

Rules:
- `plafond_hop`: amount ≤ HOP-PFI-Va2 cap of (activité combinée, prestation, régime); several
  activités combinées joined by « + » are merged establishments: the sum of their caps.
- `plafond_sfp`: amount ≤ SFP-LGC-Va2 flat cap of (type de client, tranche CSI, régime).
- `categorie_eligible`: a FINESS category is in a list of eligible categories.
- `calendrier_bon_commande`: the order's dates against the programme's calendar.
- `client_unique`: one order per client (key = first non-empty of the `by` columns).
- `identifiant_parmi`: an identifier is one of the row's other identifiers (`parmi` columns),
  as the seed defines it (HOP: the FINESS PMSI is the FINESS juridique or géographique).
- `plusieurs_og_sans_mandataire`: a warning for a demande of several OG (`cle` values of the
  sheet `enfants`) whose boolean `column` (isMandataire) is FAUX.
- `mandataire_un_seul_og`: the other side, a warning for a demande of one OG whose boolean
  `column` (isMandataire) is VRAI.
- `une_seule_demande`: a warning (`code`) on each row whose `column` value is also under another
  demande of the workbook (an OG, an ESMS in two orders).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Callable

import polars as pl

from ..formats.model import DefinitionError, RowRule, Sheet
from ..funding import (HOP, REGIMES, SFP, AboveBaremeError, OutsideBaremeError, hop_calendar, sfp_calendar, plafond_hop,
                       plafond_hop_fusion, plafond_sfp)
from ..funding.calendars import Calendar, fr
from ..funding.amounts import format_euros, format_number
from ..issues import ISSUE_SCHEMA, MESSAGES, NO_ROWS, ROWS_HOLE, message, severity
from ..reading import HEADER_SHEET, ROW, RawWorkbook
from ..wording import counted
from .values import NE, condition_expr

__all__ = ["RULES", "RuleContext", "check_rules", "validate_rules"]


@dataclass
class RuleContext:
    raw: RawWorkbook
    sheet: Sheet
    frame: pl.DataFrame  # normalised values + __row + __ne
    header: dict[str, Any]  # normalised Entête values (None when empty or invalid)
    errors: pl.DataFrame  # (sheet, row, balise) of the cells already in error
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)  # every sheet's normalised frame

    def usable(self, *columns: str) -> pl.DataFrame:
        """Rows whose given columns are filled and not already reported as errors."""
        frame = self.frame.filter(pl.all_horizontal(pl.col(c).is_not_null() for c in columns))
        bad = self.errors.filter(
            (pl.col("sheet") == self.sheet.name) & pl.col("balise").is_in(list(columns))
        ).select(pl.col("row").alias(ROW)).unique()
        return frame.join(bad, on=ROW, how="anti")

    def issues(self, frame: pl.DataFrame, *, code: str, message: pl.Expr | str, balise: str,
               value: pl.Expr, rows: pl.Expr = NO_ROWS) -> pl.DataFrame:
        msg = pl.lit(message) if isinstance(message, str) else message
        return frame.select(
            code=pl.lit(code), message=msg, severity=pl.lit(str(severity(code))), sheet=pl.lit(self.sheet.name),
            row=pl.col(ROW), column=pl.lit(self.raw.letter(self.sheet.name, balise)),
            balise=pl.lit(balise), value=value.cast(pl.String), numero_editeur=pl.col(NE), rows=rows,
        ).cast(ISSUE_SCHEMA)


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=ISSUE_SCHEMA)


def _cents(expr: pl.Expr) -> pl.Expr:
    """Normalised amount text '1234.50' → 123450 (exact integer cents)."""
    return expr.str.replace(".", "", literal=True).cast(pl.Int64, strict=False)


def _decimal_text(expr: pl.Expr) -> pl.Expr:
    """A number typed as text ('15 000', '15000,5', '15000.0') → canonical Decimal text."""
    return expr.str.replace_all(r"[\s\u00a0\u202f]", "").str.replace(",", ".", literal=True)


# ---------------------------------------------------------------- caps


def _cap_issues(ctx: RuleContext, usable: pl.DataFrame, keys: list[str], combos: list[dict[str, Any]],
                compute: Callable[..., tuple[Decimal, str]], amount: str, subject: str) -> pl.DataFrame:
    """Compute the cap once per distinct combination of `keys`, join it back, compare."""
    rows = []
    for combo in combos:
        try:
            cap, detail = compute(**combo)
            rows.append({**combo, "__cap": int(cap * 100), "__capmsg": message(
                "montant_au_dela_du_plafond", plafond=format_euros(cap), detail=detail),
                "__out": None, "__outcode": None})
        except OutsideBaremeError as exc:
            # beyond the table's last tranche the seed is silent: the cap is not checked (a
            # warning); any other input the table cannot price is an error
            code = "plafond_non_verifie" if isinstance(exc, AboveBaremeError) else "hors_bareme"
            rows.append({**combo, "__cap": None, "__capmsg": None, "__out": message(code, detail=str(exc)),
                         "__outcode": code})
    table = pl.DataFrame(rows, schema={**{k: pl.String for k in keys}, "__cap": pl.Int64,
                                       "__capmsg": pl.String, "__out": pl.String, "__outcode": pl.String})
    joined = usable.join(table, on=keys, how="left", nulls_equal=True)  # SFP: no tranche = null
    over = joined.filter(_cents(pl.col(amount)) > pl.col("__cap"))
    return pl.concat([
        ctx.issues(over, code="montant_au_dela_du_plafond", message=pl.col("__capmsg"), balise=amount,
                   value=pl.col(amount)),
        *(ctx.issues(joined.filter(pl.col("__outcode") == code), code=code, message=pl.col("__out"),
                     balise=subject, value=pl.col(subject)) for code in ("hors_bareme", "plafond_non_verifie")),
    ])


def plafond_hop_rule(ctx: RuleContext, rule: RowRule) -> pl.DataFrame:
    """Order amount ≤ HOP-PFI-Va2 cap (seed 002 §5.3, in the order's VAT regime)."""
    amount, ac, prestation, regime = (rule.get(k) for k in ("montant", "activite", "prestation", "regime"))
    usable = ctx.usable(amount, ac, prestation, regime).with_columns(_decimal_text(pl.col(ac)).alias("__ac"))
    keys = ["__ac", prestation, regime]
    combos = usable.select(keys).unique().to_dicts()

    def compute(**combo: Any) -> tuple[Decimal, str]:
        acs = combo["__ac"].split("+")
        if len(acs) > 1:  # merged establishments (seed 002 §5.3): the sum of their caps
            f = plafond_hop_fusion(acs, combo[prestation], combo[regime])
            p = f.establishments[0]
            caps = " + ".join(f"{format_euros(e.plafond)} (activité combinée {format_number(e.combined_activity)}, "
                              f"tranche {e.tranche})" for e in f.establishments)
            return f.plafond, (f"{HOP.code}, {HOP.prestations[p.prestation]}, établissement issu d'une fusion : "
                               f"somme des plafonds {caps}, {REGIMES[p.regime][1]}")
        p = plafond_hop(combo["__ac"], combo[prestation], combo[regime])
        return p.plafond, (f"{HOP.code}, {HOP.prestations[p.prestation]}, activité combinée "
                           f"{format_number(p.combined_activity)}, tranche {p.tranche}, {REGIMES[p.regime][1]}")

    return _cap_issues(ctx, usable, keys, combos, compute, amount, ac)


def plafond_sfp_rule(ctx: RuleContext, rule: RowRule) -> pl.DataFrame:
    """Order amount ≤ SFP-LGC-Va2 flat cap (seed 004 §5.3, in the order's VAT regime)."""
    amount, client, tranche, regime = (rule.get(k) for k in ("montant", "client", "tranche", "regime"))
    # the tranche is read only for a CSI (its presence rule says when it is filled)
    # (a CSI without a valid tranche is already reported on its cell: not judged again)
    usable = ctx.usable(amount, client, regime).filter(
        (pl.col(client) != "csi") | pl.col(tranche).is_not_null()
    ).with_columns(pl.when(pl.col(client) == "csi").then(pl.col(tranche)).alias("__tranche"))
    keys = [client, "__tranche", regime]
    combos = usable.select(keys).unique().to_dicts()

    def compute(**combo: Any) -> tuple[Decimal, str]:
        p = plafond_sfp(combo[client], combo["__tranche"], combo[regime])
        qui = SFP.clients[p.client][1] + (f", tranche {p.tranche}" if p.tranche else "")
        return p.plafond, f"{SFP.code}, {qui}, {REGIMES[p.regime][1]}"

    return _cap_issues(ctx, usable, keys, combos, compute, amount, client)


# ---------------------------------------------------------------- eligibility

# list name → (eligible values, French description, programme)
CATEGORY_LISTS: dict[str, tuple[frozenset[str], str, str]] = {
    "hop_finess_juridique": (HOP.finess_juridique_categories, "FINESS juridique", HOP.code),
    "hop_finess_geographique": (HOP.finess_geographique_categories, "FINESS géographique", HOP.code),
}


def categorie_eligible_rule(ctx: RuleContext, rule: RowRule) -> pl.DataFrame:
    """A FINESS category must be in the programme's list (seed 002 §4.2)."""
    column, name = rule.get("column"), rule.get("liste")
    values, what, programme = CATEGORY_LISTS[name]
    usable = ctx.usable(column)
    bad = usable.filter(~pl.col(column).is_in(sorted(values)))
    msg = message("categorie_non_eligible", quoi=what, programme=programme,
                  values=", ".join(sorted(values, key=int)))
    return ctx.issues(bad, code="categorie_non_eligible", message=msg, balise=column, value=pl.col(column))


# ---------------------------------------------------------------- calendar


def _day(value: Any) -> date | None:
    return datetime.strptime(value, "%d/%m/%Y").date() if isinstance(value, str) else None


def _as_date(column: str) -> pl.Expr:
    return pl.col(column).str.to_date("%d/%m/%Y", strict=False)


def calendrier_bon_commande_rule(ctx: RuleContext, rule: RowRule) -> pl.DataFrame:
    """Seed 002/004 §4.3 « Calendrier d'établissement des bons de commande ».

    The calendar is resolved once (HOP: absolute dates; SFP: Date 0 of the Entête + n
    months) with `converter.funding`, then every row is compared in Polars, with the same
    readings as `funding.check_bon_commande` (a bare date on a deadline day is accepted).
    """
    programme = rule.get("programme")
    date0 = _day(ctx.header.get(rule.get("date0"))) if rule.get("date0") else None
    if programme == HOP.code:
        cal: Calendar = hop_calendar(date0)
    elif programme == SFP.code:
        if date0 is None:  # Date 0 missing or invalid: already reported on the Entête
            return _empty()
        cal = sfp_calendar(date0)
    else:
        raise DefinitionError(f"calendrier_bon_commande: unknown programme {programme!r}")
    emission, signature, mention = rule.get("emission"), rule.get("signature"), rule.get("mention")
    referencement = _day(ctx.header.get(rule.get("referencement"))) if rule.get("referencement") else None
    dossier = _day(ctx.header.get(rule.get("dossier_complet"))) if rule.get("dossier_complet") else None
    parts = []
    if emission and cal.date0 is not None:
        rows = ctx.usable(emission).filter(_as_date(emission) <= pl.lit(cal.date0))
        parts.append(ctx.issues(rows, code="emission_avant_date0", balise=emission, value=pl.col(emission),
                                message=message("emission_avant_date0", date0=fr(cal.date0))))
    if signature:
        signed = ctx.usable(signature)
        sig = _as_date(signature)
        if cal.signature_min is not None:
            parts.append(ctx.issues(
                signed.filter(sig < pl.lit(cal.signature_min)), code="signature_avant_date0_12_mois",
                balise=signature, value=pl.col(signature),
                message=message("signature_avant_date0_12_mois", limite=fr(cal.signature_min))))
        date4 = cal.date(4)
        parts.append(ctx.issues(
            signed.filter(sig > pl.lit(date4.date())), code="signature_apres_date4", balise=signature,
            value=pl.col(signature), message=message("signature_apres_date4", limite=fr(date4))))
        before_ref = pl.lit(True) if referencement is None else sig < pl.lit(referencement)
        if dossier is not None:
            n = cal.signature_days_before_complete_file
            parts.append(ctx.issues(
                signed.filter(before_ref & (sig < pl.lit(dossier - timedelta(days=n)))),
                code="signature_trop_tot", balise=signature, value=pl.col(signature),
                message=message("signature_trop_tot", jours=n, limite=fr(dossier),
                                debut=fr(dossier - timedelta(days=n)))))
        if mention:
            rows = ctx.usable(signature, mention).filter(before_ref & ~pl.col(mention))
            typed = ctx.raw.frames[ctx.sheet.name].select(ROW, pl.col(mention).alias("__typed"))
            parts.append(ctx.issues(rows.join(typed, on=ROW, how="left"), code="mention_conditionnelle_absente",
                                    balise=mention, value=pl.col("__typed"),  # as typed: « FAUX », « non »
                                    message=message("mention_conditionnelle_absente")))
            # left empty (the column is optional): the seed's requirement cannot be checked, the
            # user is told to look at the order, nothing is refused
            misread = ctx.errors.filter((pl.col("sheet") == ctx.sheet.name) & (pl.col("balise") == mention)) \
                .select(pl.col("row").alias(ROW))
            unsaid = signed.filter(before_ref & pl.col(mention).is_null()).join(misread, on=ROW, how="anti")
            parts.append(ctx.issues(unsaid, code="mention_conditionnelle_a_verifier", balise=mention,
                                    value=pl.lit(None, pl.String), message=message("mention_conditionnelle_a_verifier")))
    return pl.concat(parts) if parts else _empty()


# ---------------------------------------------------------------- unicity


def client_unique_rule(ctx: RuleContext, rule: RowRule) -> pl.DataFrame:
    """One financed order per client (seeds 002/004 §4.2 « Unicité du financement »).

    The client is identified by the column of `by` its row requires (presence rule): « les
    professionnels exerçant en cabinet libéral sont identifiés par leur N°RPPS, et les centres de
    santé infirmier sont identifiés par leur n° FINESS Géographique » (seed 004 §4.2), so a CSI
    with an RPPS it need not have (kept, with a warning) is identified by its FINESS, a
    professional with a FINESS by the RPPS. A row whose type requires none of them (type missing
    or invalid) is identified by the first non-empty column of `by`. A cell already in error
    identifies no one: a malformed RPPS is not a client.
    """
    by = list(rule.get("by"))
    programme = rule.get("programme")
    mine = ctx.errors.filter(pl.col("sheet") == ctx.sheet.name)
    frame = ctx.frame.with_columns(
        pl.when(pl.col(ROW).is_in(mine.filter(pl.col("balise") == c)["row"].implode())).then(None)
        .otherwise(pl.col(c)).alias(c) for c in by
    )
    required = {c: _required_here(ctx.sheet.by_balise[c]) for c in by}
    typed = pl.any_horizontal(*required.values())

    def first(of: Callable[[str], pl.Expr], only_required: bool) -> pl.Expr:
        return pl.coalesce(*(pl.when(required[c] if only_required else pl.lit(True)).then(of(c)) for c in by))

    def pick(of: Callable[[str], pl.Expr]) -> pl.Expr:
        return pl.when(typed).then(first(of, True)).otherwise(first(of, False))

    keyed = frame.with_columns(
        __key=pick(pl.col),
        __keycol=pick(lambda c: pl.when(pl.col(c).is_not_null()).then(pl.lit(c))),
    ).filter(pl.col("__key").is_not_null())
    dup = keyed.filter(pl.len().over("__key") > 1).with_columns(__rows=pl.col(ROW).implode().over("__key"))
    out = []
    for (column, key), part in dup.group_by(["__keycol", "__key"], maintain_order=True):
        msg = message("client_en_double", key=key, lignes=ROWS_HOLE, programme=programme)
        out.append(ctx.issues(part, code="client_en_double", message=msg, balise=column, value=pl.col("__key"),
                              rows=pl.col("__rows")))
    return pl.concat(out) if out else _empty()


def _required_here(f: Any) -> pl.Expr:
    """True on the rows where the field's presence rule requires it (false where unknown)."""
    if f.presence.mode == "required":
        return pl.lit(True)
    if f.presence.mode == "required_if":
        return condition_expr(f.presence.condition).fill_null(False)
    return pl.lit(False)


# ---------------------------------------------------------------- one identifier among others


def identifiant_parmi_rule(ctx: RuleContext, rule: RowRule) -> pl.DataFrame:
    """`column` equals one of the `parmi` columns of its row (seed 002 §4.2: the FINESS PMSI is
    the FINESS juridique or the FINESS géographique). Rows where one of them is empty or already
    in error are not judged: that cell has its own issue."""
    column, others = rule.get("column"), list(rule.get("parmi"))
    rows = ctx.usable(column, *others).filter(~pl.any_horizontal(pl.col(column) == pl.col(o) for o in others))
    msg = message("identifiant_absent_de_la_ligne", explication=rule.get("explication"), balise=column,
                  autres="".join(f" ni le {o}" for o in others).lstrip())
    return ctx.issues(rows, code="identifiant_absent_de_la_ligne", message=msg, balise=column, value=pl.col(column))


# ---------------------------------------------------------------- several OG, no mandataire


def plusieurs_og_sans_mandataire_rule(ctx: RuleContext, rule: RowRule) -> pl.DataFrame:
    """A demande whose boolean `column` is FAUX while the sheet `enfants` gives it several
    distinct `cle`. Seed 001 describes isMandataire, without forbidding anything: « Indique si
    la commande est portée par un mandataire pour plusieurs OG » (« false : il n'existe pas de
    mandataire porteur de la commande pour le compte des organismes gestionnaires ») and « Il
    peut y avoir plusieurs OG par demande de financement »: a warning, never an error."""
    column, children, key = rule.get("column"), rule.get("enfants"), rule.get("cle")
    several = ctx.frames[children].filter(pl.col(NE).is_not_null() & pl.col(key).is_not_null()) \
        .group_by(NE).agg(__n=pl.col(key).n_unique()).filter(pl.col("__n") > 1)
    rows = ctx.usable(column).filter(~pl.col(column)).join(several, on=NE, how="inner", maintain_order="left")
    msg = pl.format(message("plusieurs_og_sans_mandataire", detail="{}", sheet=children, balise=column), pl.col("__n"))
    return ctx.issues(rows, code="plusieurs_og_sans_mandataire", message=msg, balise=column, value=pl.lit("FAUX"))


def mandataire_un_seul_og_rule(ctx: RuleContext, rule: RowRule) -> pl.DataFrame:
    """A demande whose boolean `column` is VRAI while the sheet `enfants` gives it a single
    `cle`: seed 001 describes isMandataire as « la commande est portée par un mandataire pour
    plusieurs OG » (« true : il existe un mandataire »), forbidding nothing: a warning, never
    an error (a mandataire may carry the order of one OG)."""
    column, children, key = rule.get("column"), rule.get("enfants"), rule.get("cle")
    single = ctx.frames[children].filter(pl.col(NE).is_not_null() & pl.col(key).is_not_null()) \
        .group_by(NE).agg(__n=pl.col(key).n_unique()).filter(pl.col("__n") == 1)
    rows = ctx.usable(column).filter(pl.col(column)).join(single, on=NE, how="inner", maintain_order="left")
    msg = message("mandataire_un_seul_og", sheet=children, balise=column)
    return ctx.issues(rows, code="mandataire_un_seul_og", message=msg, balise=column, value=pl.lit("VRAI"))


# ---------------------------------------------------------------- one order per OG


OTHERS_NAMED = 3  # the other demandes a warning of `une_seule_demande` names (then their count)


def others_said(names: list[str], more: int, one: str, several: str) -> str:
    """The other demandes a warning names, after their article: `one` before a single name,
    `several` before a list (`names`, at most OTHERS_NAMED), then the `more` not named; the
    polars twin of `une_seule_demande_rule` says the same.

    >>> others_said(["00002"], 0, "la demande", "les demandes")
    'la demande 00002'
    >>> others_said(["00002", "00003"], 0, "la demande", "les demandes")
    'les demandes 00002 et 00003'
    >>> others_said(["00002", "00003", "00004"], 0, "la demande", "les demandes")
    'les demandes 00002, 00003 et 00004'
    >>> others_said(["00002", "00003", "00004"], 1, "la demande", "les demandes")
    'les demandes 00002, 00003, 00004 et 1 autre'
    >>> others_said(["00002", "00003", "00004"], 2, "la demande", "les demandes")
    'les demandes 00002, 00003, 00004 et 2 autres'
    """
    if len(names) == 1 and not more:
        return f"{one} {names[0]}"
    listed, last = (names, counted(more, "autre")) if more else (names[:-1], names[-1])
    return f"{several} {', '.join(listed)} et {last}"


def une_seule_demande_rule(ctx: RuleContext, rule: RowRule) -> pl.DataFrame:
    """A warning (`code`) on each row whose `column` value (an OG's FINESSJuridique, an ESMS's
    FINESSGeo) the workbook names under other demandes too, which it names. Seed 001 §3.1: « La
    demande de financement ne comporte qu'un seul bon de commande pour les ESMS éligibles au SONS
    de l'organisme gestionnaire »: it describes the demande, forbidding nothing in so many words,
    so the value is kept; but the same OG or ESMS in two demandes is two orders for it, and an
    ESMS in two accepted avances would be funded twice (« Le client final est un ESSMS identifié
    par son FINESS géographique », seed 000 §3.1)."""
    column, code = rule.get("column"), rule.get("code")
    # a value the sheet holds once is under one demande: only the others are grouped (most values
    # of a large workbook are once: grouping them all cost 0.2 s of FINESS Géo's 300,000 rows)
    rows = ctx.usable(column).filter(pl.col(NE).is_not_null() & pl.col(column).is_duplicated())
    # the first others named, then a count: one ESMS in 10,000 demandes named each of them on each
    # row (a hundred million names, a minute)
    numeros = rows.group_by(column).agg(__n=pl.col(NE).n_unique(),
                                        __first=pl.col(NE).unique().sort().head(OTHERS_NAMED + 1))
    found = rows.join(numeros.filter(pl.col("__n") > 1), on=column, how="inner", maintain_order="left")
    named = pl.col("__first").list.set_difference(pl.concat_list(pl.col(NE))).list.sort().list.head(OTHERS_NAMED)
    unnamed = pl.col("__n") - 1 - named.list.len()
    # as `others_said`: « la demande 00002 », « les demandes 00002 et 00003 », « … 00004 et 2 autres »
    listed = pl.when(unnamed > 0).then(named).otherwise(named.list.head(named.list.len() - 1)).list.join(", ")
    last = pl.when(unnamed > 1).then(pl.format("{} autres", unnamed)).when(unnamed == 1).then(pl.lit("1 autre")) \
        .otherwise(named.list.last())
    others = pl.when((named.list.len() == 1) & (unnamed == 0)).then(pl.format("la demande {}", named.list.first())) \
        .otherwise(pl.format("les demandes {} et {}", listed, last))
    msg = pl.format(message(code, key="{}", autres="{}"), pl.col(column), others)
    return ctx.issues(found, code=code, message=msg, balise=column, value=pl.col(column))


# ---------------------------------------------------------------- registry

RULES: dict[str, Callable[[RuleContext, RowRule], pl.DataFrame]] = {
    "plafond_hop": plafond_hop_rule,
    "plafond_sfp": plafond_sfp_rule,
    "categorie_eligible": categorie_eligible_rule,
    "calendrier_bon_commande": calendrier_bon_commande_rule,
    "client_unique": client_unique_rule,
    "identifiant_parmi": identifiant_parmi_rule,
    "plusieurs_og_sans_mandataire": plusieurs_og_sans_mandataire_rule,
    "mandataire_un_seul_og": mandataire_un_seul_og_rule,
    "une_seule_demande": une_seule_demande_rule,
}

# parameters that name a column of the sheet (the others name Entête columns or constants)
_SHEET_COLUMNS = ("montant", "activite", "prestation", "regime", "client", "tranche", "column",
                  "emission", "signature", "mention")
_HEADER_COLUMNS = ("date0", "referencement", "dossier_complet")
_LIST_COLUMNS = ("by", "parmi")  # parameters that name several columns of the sheet


def validate_rules(definition: Any) -> None:
    """Every declared rule exists and names existing columns (a project bug otherwise)."""
    for sheet in definition.sheets:
        for rule in sheet.rules:
            where = f"{definition.id}: sheet {sheet.name!r}: rule {rule.rule!r}"
            if rule.rule not in RULES:
                raise DefinitionError(f"{where}: unknown rule (known: {sorted(RULES)})")
            for key, value in rule.params:
                names = value if key in _LIST_COLUMNS else [value]
                if key in _SHEET_COLUMNS or key in _LIST_COLUMNS:
                    missing = [n for n in names if n not in sheet.by_balise]
                elif key in _HEADER_COLUMNS:
                    missing = [n for n in names if n not in definition.header.by_balise]
                else:
                    continue
                if missing:
                    raise DefinitionError(f"{where}: {key} names unknown columns {missing}")
            if rule.rule in ("plusieurs_og_sans_mandataire", "mandataire_un_seul_og"):
                children = next((s for s in definition.sheets if s.name == rule.get("enfants")), None)
                if children is None or rule.get("cle") not in children.by_balise:
                    raise DefinitionError(f"{where}: enfants/cle name no sheet and column "
                                          f"({rule.get('enfants')!r}, {rule.get('cle')!r})")
            if rule.rule == "une_seule_demande" and rule.get("code") not in MESSAGES:
                raise DefinitionError(f"{where}: unknown code {rule.get('code')!r}")
            if rule.rule == "une_seule_demande" and rule.get("registre") not in (None, *MESSAGES):
                raise DefinitionError(f"{where}: unknown registre code {rule.get('registre')!r}")
            if rule.rule == "categorie_eligible" and rule.get("liste") not in CATEGORY_LISTS:
                raise DefinitionError(f"{where}: unknown liste {rule.get('liste')!r}")


def check_rules(raw: RawWorkbook, frames: dict[str, pl.DataFrame], issues: pl.DataFrame) -> list[pl.DataFrame]:
    """Run the rules of every sheet; cells already in error are not judged again."""
    definition = raw.definition
    if not any(s.rules for s in definition.sheets):
        return []
    validate_rules(definition)
    header = frames[HEADER_SHEET].row(0, named=True) if frames[HEADER_SHEET].height else {}
    errors = issues.filter(pl.col("severity") == "erreur").select("sheet", "row", "balise")
    found = []
    for sheet in definition.sheets:
        ctx = RuleContext(raw=raw, sheet=sheet, frame=frames[sheet.name], header=header, errors=errors, frames=frames)
        for rule in sheet.rules:
            found.append(RULES[rule.rule](ctx, rule))
    return found
