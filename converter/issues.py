"""Errors are data: every problem found is an `Issue` with a code, a location and a value.

The CLI, the error workbook and the JSON report all render these same objects. The French
wording of each code lives in MESSAGES, in one place.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

import polars as pl


class Severity(StrEnum):
    ERROR = "erreur"
    WARNING = "avertissement"


# code → (severity, French message). Placeholders are filled from the field's definition.
MESSAGES: dict[str, tuple[Severity, str]] = {
    # the workbook as a whole (exit code 2)
    "fichier_introuvable": (Severity.ERROR, "Le fichier est introuvable. Vérifiez le chemin."),
    "fichier_illisible": (Severity.ERROR, "Le fichier n'est pas un classeur Excel lisible ({detail}). Enregistrez-le au format « Classeur Excel (.xlsx) » et recommencez."),
    "format_non_pris_en_charge": (Severity.ERROR, "Les fichiers {detail} ne sont pas lus. Ouvrez-le dans Excel ou LibreOffice et enregistrez-le au format « Classeur Excel (.xlsx) »."),
    "feuille_manquante": (Severity.ERROR, "La feuille « {sheet} » est absente. Partez du modèle donné par « xl2segur modele » ou ajoutez cette feuille avec ses colonnes."),
    "colonne_manquante": (Severity.ERROR, "La colonne « {balise} » est absente de la ligne 1 de la feuille « {sheet} ». Rétablissez son en-tête exactement ainsi."),
    "format_inconnu": (Severity.ERROR, "Format inconnu. Indiquez dans la feuille Entête l'un des formats listés par « xl2segur formats »."),
    "entete_vide": (Severity.ERROR, "La feuille Entête n'a pas de ligne 2 remplie : indiquez numeroAns, SIRET et le format."),
    "aucune_demande": (Severity.ERROR, "La feuille Demandes ne contient aucune demande."),
    "trop_de_lignes": (Severity.ERROR, "La feuille « {sheet} » dépasse la limite de {max} lignes ({detail}). Découpez le classeur."),
    "classeur_trop_gros": (Severity.ERROR, "Le classeur décompressé dépasse {detail} : il est refusé par sécurité. Découpez-le."),
    "classeur_protege": (Severity.ERROR, "Le classeur est protégé par un mot de passe. Enregistrez-en une copie sans mot de passe."),
    # one cell
    "obligatoire": (Severity.ERROR, "Valeur obligatoire : renseignez {balise}."),
    "obligatoire_si": (Severity.ERROR, "Valeur obligatoire quand {condition} : renseignez {balise}."),
    "doit_etre_vide": (Severity.ERROR, "Doit rester vide sauf si {condition} : videz la cellule ou corrigez la condition."),
    "cellule_en_erreur": (Severity.ERROR, "La cellule contient une erreur de formule ({detail}) : remplacez-la par une valeur."),
    "longueur_exacte": (Severity.ERROR, "Doit compter exactement {length} caractères."),
    "longueur_max": (Severity.ERROR, "Trop long : {max_length} caractères au plus."),
    "motif": (Severity.ERROR, "Format attendu : {hint}."),
    "majuscules": (Severity.WARNING, "Mis en MAJUSCULES comme l'exige l'ASP."),
    "valeur_non_autorisee": (Severity.ERROR, "Valeur non autorisée. Valeurs possibles : {values}."),
    "casse_corrigee": (Severity.WARNING, "Écriture corrigée en « {fixed} »."),
    "booleen_invalide": (Severity.ERROR, "Répondez VRAI ou FAUX (ou oui / non)."),
    "date_invalide": (Severity.ERROR, "Date invalide : saisissez une vraie date au format JJ/MM/AAAA."),
    "montant_invalide": (Severity.ERROR, "Montant invalide : saisissez un nombre, par exemple 4866.67 ou 4 866,67."),
    "montant_decimales": (Severity.ERROR, "Plus de 2 décimales : l'ASP exige un montant au centime ; arrondissez-le vous-même dans le classeur."),
    "montant_non_positif": (Severity.ERROR, "Le montant doit être strictement positif."),
    "entier_invalide": (Severity.ERROR, "Saisissez un nombre entier."),
    "entier_min": (Severity.ERROR, "Doit être un entier au moins égal à {minimum}."),
    "email_invalide": (Severity.ERROR, "Adresse électronique invalide : il faut un « @ » après le premier caractère et un point, 149 caractères au plus."),
    "telephone_invalide": (Severity.ERROR, "Numéro invalide : il doit commencer par l'indicatif international (ex. +33612345678), 49 caractères au plus."),
    "telephone_normalise": (Severity.WARNING, "Espaces et séparateurs retirés du numéro."),
    "finess_invalide": (Severity.ERROR, "Un FINESS compte 9 caractères : 9 chiffres, ou 2A / 2B suivis de 7 chiffres (Corse)."),
    "finess_complete": (Severity.WARNING, "Le FINESS saisi comme un nombre avait perdu son zéro initial : il a été rétabli. Formatez la colonne en texte."),
    "finess_cle": (Severity.WARNING, "La clé de contrôle de ce FINESS est fausse : vérifiez qu'il n'y a pas de faute de frappe (l'ASP ne contrôle que la longueur)."),
    "rpps_invalide": (Severity.ERROR, "Un RPPS compte exactement 11 chiffres."),
    "rpps_cle": (Severity.WARNING, "La clé de contrôle de ce RPPS est fausse : vérifiez qu'il n'y a pas de faute de frappe (l'ASP ne contrôle que la longueur)."),
    "siret_invalide": (Severity.ERROR, "Un SIRET compte exactement 14 chiffres."),
    "siret_cle": (Severity.WARNING, "La clé de contrôle de ce SIRET est fausse : vérifiez-le (l'ASP ne contrôle que la longueur)."),
    "numero_ans_invalide": (Severity.ERROR, "Le numéro de référencement ANS compte exactement 10 chiffres."),
    "numero_editeur_invalide": (Severity.ERROR, "Le numéro éditeur compte exactement 5 lettres ou chiffres (ex. 00001)."),
    "numero_editeur_complete": (Severity.WARNING, "Le numéro saisi comme un nombre avait perdu ses zéros initiaux : ils ont été rétablis. Formatez la colonne en texte."),
    "numero_asp_invalide": (Severity.ERROR, "Le numéro ASP compte 12 caractères et commence par {prefix} (ex. {prefix}000002) : recopiez celui du retour ASP de l'avance."),
    "format_different": (Severity.ERROR, "Ce classeur est au format « {detail} » : utilisez la commande ou le modèle de ce format."),
    # across rows and sheets
    "doublon": (Severity.ERROR, "Doublon : la même valeur de {key} figure plusieurs fois dans la feuille « {sheet} » (lignes {detail}). Gardez une seule ligne."),
    "parent_inconnu": (Severity.ERROR, "Aucune ligne de la feuille « {parent} » ne correspond ({key}) : corrigez la valeur ou ajoutez la ligne manquante."),
    "sans_enfant": (Severity.ERROR, "Cette ligne n'a aucune ligne dans la feuille « {child} » : ajoutez-en au moins une."),
    "ensemble_manquant": (Severity.ERROR, "Ce {column} n'a pas de ligne dans la feuille « {other} » pour la même demande : ajoutez-la."),
    "ensemble_en_trop": (Severity.ERROR, "Ce {column} ne figure pas dans la feuille « {other} » pour la même demande : retirez cette ligne ou complétez « {other} »."),
    "entete_invalide": (Severity.ERROR, "La feuille Entête contient une erreur : aucune demande ne peut être déposée tant qu'elle n'est pas corrigée."),
    "piece_type_en_trop": (Severity.ERROR, "Cette pièce n'est pas attendue pour cette demande ({detail})."),
}


@dataclass(frozen=True)
class Issue:
    """One problem, located as precisely as known."""

    code: str
    message: str
    severity: Severity = Severity.ERROR
    sheet: str | None = None
    row: int | None = None  # row number in the user's workbook (1 = header)
    column: str | None = None  # column letter in the user's workbook
    balise: str | None = None
    value: str | None = None
    numero_editeur: str | None = None
    file: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == Severity.ERROR

    @property
    def cell(self) -> str | None:
        return f"{self.column}{self.row}" if self.column and self.row else None

    def location(self) -> str:
        parts = []
        if self.sheet:
            parts.append(f"feuille « {self.sheet} »")
        if self.row:
            parts.append(f"ligne {self.row}")
        if self.column:
            parts.append(f"colonne {self.column}" + (f" ({self.balise})" if self.balise else ""))
        elif self.balise:
            parts.append(self.balise)
        return ", ".join(parts)

    def render(self) -> str:
        where = self.location()
        value = f" — valeur « {self.value} »" if self.value not in (None, "") else ""
        return f"{where}{value} : {self.message}" if where else self.message

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = str(self.severity)
        return data


def message(code: str, **params: Any) -> str:
    template = MESSAGES[code][1]
    try:
        return template.format(**params)
    except KeyError as missing:  # a definition lacks a parameter: say so plainly
        raise KeyError(f"message {code!r} needs parameter {missing}") from None


def severity(code: str) -> Severity:
    return MESSAGES[code][0]


def issue(code: str, **kw: Any) -> Issue:
    """Build an Issue whose message comes from the catalogue; extra kw fill placeholders."""
    fields = {k: kw.pop(k) for k in list(kw) if k in Issue.__dataclass_fields__}
    params = {**{k: v for k, v in fields.items() if v is not None}, **kw}
    return Issue(code=code, message=message(code, **params), severity=severity(code), **fields)


# Columnar form, used while checking large workbooks.
ISSUE_SCHEMA = {
    "code": pl.String, "message": pl.String, "severity": pl.String, "sheet": pl.String,
    "row": pl.Int64, "column": pl.String, "balise": pl.String, "value": pl.String,
    "numero_editeur": pl.String,
}


def issues_from_frame(frame: pl.DataFrame, file: str | None = None) -> list[Issue]:
    return [
        Issue(**{**rec, "severity": Severity(rec["severity"]), "file": file})
        for rec in frame.select(list(ISSUE_SCHEMA)).iter_rows(named=True)
    ]


def frame_from_issues(issues: list[Issue]) -> pl.DataFrame:
    return pl.DataFrame(
        [{k: (str(v) if k == "severity" else v) for k, v in i.to_dict().items() if k in ISSUE_SCHEMA}
         for i in issues],
        schema=ISSUE_SCHEMA,
    )
