"""Calendar rules of HOP-PFI-Va2 (absolute dates) and SFP-LGC-Va2 (Date 0 + n months).

Each ``verifier_*`` function takes a ``Calendrier`` (from ``calendrier_hop`` or
``calendrier_sfp``) and the dates of one order, and returns a list of ``Violation``
(empty when everything is fine). An argument left to ``None`` is not checked, except
``date_referencement`` where ``None`` means « logiciel pas (encore) référencé ».

Values may be ``date`` or ``datetime`` (naive, French local time). HOP deadlines are
« à 12h »: a ``datetime`` is compared to the exact hour; a bare ``date`` equal to the
deadline's day is accepted.
"""

from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Mapping

from .parametres import HOP, SFP
from .violations import Violation

Jour = date | datetime


@dataclass(frozen=True)
class Calendrier:
    """Resolved dates of one programme (Date 1..6, optional Date 0)."""

    programme: str
    date0: date | None
    dates: Mapping[int, datetime]
    signature_min: date | None  # earliest signature date (SFP: Date 0 + 12 mois)
    nb_pilotes: int
    delai_signature_avant_dossier_complet_jours: int
    delai_decision_avant_date4_jours: int

    def date(self, n: int) -> datetime:
        """Date n (1..6)."""
        return self.dates[n]


def ajouter_mois(d: date, mois: int) -> date:
    """d + n calendar months; the day is clamped to the month's end (31/01 + 1 -> 28/02)."""
    # inferred: the seed says « Date 0 + 7 mois » without saying what happens to a day
    # that does not exist in the target month; clamping is the usual legal reading.
    total = d.month - 1 + mois
    annee, m = d.year + total // 12, total % 12 + 1
    return date(annee, m, min(d.day, _cal.monthrange(annee, m)[1]))


def calendrier_hop(date0: date | None = None) -> Calendrier:
    """HOP-PFI-Va2 calendar; Date 0 (JO publication of the arrêté) is not in the seed."""
    return Calendrier(
        programme=HOP.code,
        date0=date0,
        dates=HOP.dates,
        signature_min=None,
        nb_pilotes=HOP.nb_pilotes,
        delai_signature_avant_dossier_complet_jours=HOP.delai_signature_avant_dossier_complet_jours,
        delai_decision_avant_date4_jours=HOP.delai_decision_avant_date4_jours,
    )


def calendrier_sfp(date0: date) -> Calendrier:
    """SFP-LGC-Va2 calendar: Date n = Date 0 + offset months."""
    # inferred: the SFP seed gives no hour; end of day (23:59:59) so that a datetime on
    # the deadline day is accepted, like a bare date.
    dates = {
        n: datetime.combine(ajouter_mois(date0, m), time(23, 59, 59))
        for n, m in SFP.decalages_mois.items()
    }
    return Calendrier(
        programme=SFP.code,
        date0=date0,
        dates=dates,
        signature_min=ajouter_mois(date0, SFP.signature_min_mois),
        nb_pilotes=SFP.nb_pilotes,
        delai_signature_avant_dossier_complet_jours=SFP.delai_signature_avant_dossier_complet_jours,
        delai_decision_avant_date4_jours=SFP.delai_decision_avant_date4_jours,
    )


def _jour(d: Jour) -> date:
    return d.date() if isinstance(d, datetime) else d


def _apres(valeur: Jour, limite: datetime) -> bool:
    """True if valeur is strictly later than the deadline."""
    if isinstance(valeur, datetime):
        return valeur > limite
    # inferred: a bare date on the deadline's day cannot be shown to be after 12h: accepted.
    return valeur > limite.date()


def _avant(valeur: Jour, limite: Jour) -> bool:
    """True if valeur is strictly earlier than limite (compared by day unless both datetimes)."""
    if isinstance(valeur, datetime) and isinstance(limite, datetime):
        return valeur < limite
    return _jour(valeur) < _jour(limite)


def fr(d: Jour) -> str:
    """French date, with the hour if it is a datetime with one: 23/09/2026 12h00."""
    s = f"{d.day:02d}/{d.month:02d}/{d.year:04d}"
    if isinstance(d, datetime) and (d.hour, d.minute) not in ((0, 0), (23, 59)):
        s += f" {d.hour:02d}h{d.minute:02d}"
    return s


def verifier_bon_commande(
    cal: Calendrier,
    *,
    date_emission: Jour | None = None,
    date_signature: Jour | None = None,
    date_referencement: Jour | None = None,
    date_dossier_complet: Jour | None = None,
    mention_conditionnelle: bool | None = None,
) -> list[Violation]:
    """Rules of §4.3 « Calendrier d'établissement des bons de commande »."""
    p = cal.programme
    v: list[Violation] = []
    # « La date d'émission du bon de commande doit être postérieure à la Date 0 »
    # inferred: « postérieure » read strictly (an order issued on Date 0 itself is refused).
    if date_emission is not None and cal.date0 is not None and _jour(date_emission) <= cal.date0:
        v.append(
            Violation(
                f"{p}.EMISSION_AVANT_DATE0",
                f"Le bon de commande est émis le {fr(date_emission)}, pas après la Date 0 "
                f"({fr(cal.date0)}) : émettez un nouveau bon de commande daté après le "
                f"{fr(cal.date0)}.",
                date_emission,
            )
        )
    if date_signature is not None:
        # SFP: « ne peut être antérieure à Date 0 + 12 mois » (the bound itself is allowed)
        if cal.signature_min is not None and _jour(date_signature) < cal.signature_min:
            v.append(
                Violation(
                    f"{p}.SIGNATURE_AVANT_DATE0_PLUS_12_MOIS",
                    f"Le bon de commande est signé le {fr(date_signature)}, avant le "
                    f"{fr(cal.signature_min)} (Date 0 + 12 mois) : faites-le signer à "
                    "partir de cette date.",
                    date_signature,
                )
            )
        # « ne peut pas être postérieure à la Date 4 »
        if _apres(date_signature, cal.date(4)):
            v.append(
                Violation(
                    f"{p}.SIGNATURE_APRES_DATE4",
                    f"Le bon de commande est signé le {fr(date_signature)}, après la Date 4 "
                    f"({fr(cal.date(4))}) : la commande n'est pas finançable ; vérifiez la "
                    "date de signature saisie.",
                    date_signature,
                )
            )
        avant_referencement = date_referencement is None or _avant(date_signature, date_referencement)
        if avant_referencement and date_dossier_complet is not None:
            ecart = (_jour(date_dossier_complet) - _jour(date_signature)).days
            n = cal.delai_signature_avant_dossier_complet_jours
            if ecart > n:
                v.append(
                    Violation(
                        f"{p}.SIGNATURE_TROP_TOT_AVANT_DOSSIER_COMPLET",
                        f"Signé le {fr(date_signature)} avant le référencement, le bon de "
                        f"commande précède de {ecart} jours le dépôt du dossier complet de "
                        f"preuves ({fr(date_dossier_complet)}) : {n} jours calendaires au plus. "
                        "Faites signer un nouveau bon de commande à partir du "
                        f"{fr(_jour(date_dossier_complet) - timedelta(days=n))}.",
                        date_signature,
                    )
                )
        if avant_referencement and mention_conditionnelle is False:
            v.append(
                Violation(
                    f"{p}.MENTION_CONDITIONNELLE_ABSENTE",
                    "Bon de commande signé avant le référencement : il doit porter la mention "
                    "« Bon de commande conditionné à l'obtention par le logiciel du "
                    "référencement ANS… » ; faites signer un bon de commande qui la porte.",
                    mention_conditionnelle,
                )
            )
    return v


def verifier_demande_avance(
    cal: Calendrier,
    *,
    date_depot: Jour,
    date_referencement: Jour | None = None,
    date_dossier_complet: Jour | None = None,
) -> list[Violation]:
    """Rules of §2 and §6.2: advance request filed by Date 4, after référencement.

    Exception (§6.2): a complete dossier filed before Date 2 and no ANS decision 15 days
    before Date 4 allow filing before the référencement.
    """
    p = cal.programme
    v: list[Violation] = []
    if _apres(date_depot, cal.date(4)):
        v.append(
            Violation(
                f"{p}.AVANCE_APRES_DATE4",
                f"Demande de financement et d'avance déposée le {fr(date_depot)}, après la "
                f"Date 4 ({fr(cal.date(4))}) : elle est irrecevable.",
                date_depot,
            )
        )
    if date_referencement is None or _avant(date_depot, date_referencement):
        limite = cal.date(4) - timedelta(days=cal.delai_decision_avant_date4_jours)
        exception = (
            date_dossier_complet is not None
            and _avant(date_dossier_complet, cal.date(2))
            and (date_referencement is None or _apres(date_referencement, limite))
            # inferred: « n'aurait pas été prononcée quinze jours avant la Date 4 » — the
            # filing can only rely on the exception from that day on.
            and not _avant(date_depot, limite)
        )
        if not exception:
            v.append(
                Violation(
                    f"{p}.AVANCE_AVANT_REFERENCEMENT",
                    f"Demande d'avance déposée le {fr(date_depot)} alors que le logiciel "
                    "n'est pas encore référencé : déposez-la après l'obtention du "
                    "référencement ANS (exception : dossier complet déposé avant la Date 2 "
                    f"({fr(cal.date(2))}) et pas de décision le {fr(limite)}).",
                    date_depot,
                )
            )
    return v


def verifier_realisation(cal: Calendrier, *, date_fin_prestation: Jour) -> list[Violation]:
    """§4.4: the Prestation Ségur is completed at the latest at Date 5."""
    # inferred: §4.4 says « avant la Date 5 » and §6.4 « au plus tard à la Date 5 »; the
    # inclusive reading is kept.
    if _apres(date_fin_prestation, cal.date(5)):
        return [
            Violation(
                f"{cal.programme}.PRESTATION_APRES_DATE5",
                f"Prestation terminée le {fr(date_fin_prestation)}, après la Date 5 "
                f"({fr(cal.date(5))}) : elle n'est pas finançable et l'avance perçue doit "
                "être reversée ; vérifiez la date de fin saisie.",
                date_fin_prestation,
            )
        ]
    return []


def verifier_demande_solde(
    cal: Calendrier,
    *,
    date_depot: Jour,
    date_fin_prestation: Jour | None = None,
    date_attestation_fin: Jour | None = None,
    nb_pilotes_valides: int | None = None,
    avance_validee: bool | None = None,
) -> list[Violation]:
    """§2, §6.3, §6.4: balance request rules (Date 5/Date 6, pilots, validated advance)."""
    p = cal.programme
    v: list[Violation] = []
    if _apres(date_depot, cal.date(6)):
        v.append(
            Violation(
                f"{p}.SOLDE_APRES_DATE6",
                f"Demande de solde déposée le {fr(date_depot)}, après la Date 6 "
                f"({fr(cal.date(6))}) : elle est irrecevable.",
                date_depot,
            )
        )
    elif _apres(date_depot, cal.date(5)) and (
        date_attestation_fin is None or _apres(date_attestation_fin, cal.date(5))
    ):
        v.append(
            Violation(
                f"{p}.ATTESTATION_FIN_MANQUANTE",
                f"Demande de solde déposée le {fr(date_depot)}, après la Date 5 "
                f"({fr(cal.date(5))}) : une attestation de fin de Prestation envoyée au plus "
                "tard à la Date 5 est exigée ; indiquez sa date d'envoi.",
                date_attestation_fin,
            )
        )
    if date_fin_prestation is not None:
        v.extend(verifier_realisation(cal, date_fin_prestation=date_fin_prestation))
        if _avant(date_depot, date_fin_prestation):
            v.append(
                Violation(
                    f"{p}.SOLDE_AVANT_FIN_PRESTATION",
                    f"Demande de solde déposée le {fr(date_depot)}, avant la fin de la "
                    f"Prestation ({fr(date_fin_prestation)}) : déposez-la une fois la "
                    "Prestation réalisée et la VA signée.",
                    date_depot,
                )
            )
    if nb_pilotes_valides is not None and nb_pilotes_valides < cal.nb_pilotes:
        v.append(
            Violation(
                f"{p}.PILOTES_INSUFFISANTS",
                f"{nb_pilotes_valides} installation(s) pilote(s) validée(s) sur "
                f"{cal.nb_pilotes} requises : aucune demande de solde avant la validation "
                f"par l'ANS des {cal.nb_pilotes} PV pilotes.",
                nb_pilotes_valides,
            )
        )
    if avance_validee is False:
        v.append(
            Violation(
                f"{p}.AVANCE_NON_VALIDEE",
                "La demande de financement et d'avance correspondante n'a pas été validée "
                "par l'ASP : attendez sa validation avant de déposer le solde.",
                avance_validee,
            )
        )
    return v
