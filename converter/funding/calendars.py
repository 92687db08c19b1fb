"""Calendar rules of HOP-PFI-Va2 (absolute dates) and SFP-LGC-Va2 (Date 0 + n months).

Each ``check_*`` function takes a ``Calendar`` (from ``hop_calendar`` or
``sfp_calendar``) and the dates of one order, and returns a list of ``Violation``
(empty when everything is fine). An argument left to ``None`` is not checked, except
``referencing_date`` where ``None`` means « logiciel pas (encore) référencé ».

Values may be ``date`` or ``datetime`` (naive, French local time). HOP deadlines are
« à 12h »: a ``datetime`` is compared to the exact hour; a bare ``date`` equal to the
deadline's day is accepted.
"""

from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Mapping

from .parameters import HOP, SFP
from .violations import Violation

Day = date | datetime


@dataclass(frozen=True)
class Calendar:
    """Resolved dates of one programme (Date 1..6, optional Date 0)."""

    programme: str
    date0: date | None
    dates: Mapping[int, datetime]
    signature_min: date | None  # earliest signature date (SFP: Date 0 + 12 mois)
    pilot_count: int
    signature_days_before_complete_file: int
    decision_days_before_date4: int

    def date(self, n: int) -> datetime:
        """Date n (1..6)."""
        return self.dates[n]


def add_months(d: date, months: int) -> date:
    """d + n calendar months; the day is clamped to the month's end (31/01 + 1 -> 28/02)."""
    # inferred: the seed says « Date 0 + 7 mois » without saying what happens to a day
    # that does not exist in the target month; clamping is the usual legal reading.
    total = d.month - 1 + months
    year_number, m = d.year + total // 12, total % 12 + 1
    return date(year_number, m, min(d.day, _cal.monthrange(year_number, m)[1]))


def hop_calendar(date0: date | None = None) -> Calendar:
    """HOP-PFI-Va2 calendar; Date 0 (JO publication of the arrêté) is not in the seed."""
    return Calendar(
        programme=HOP.code,
        date0=date0,
        dates=HOP.dates,
        signature_min=None,
        pilot_count=HOP.pilot_count,
        signature_days_before_complete_file=HOP.signature_days_before_complete_file,
        decision_days_before_date4=HOP.decision_days_before_date4,
    )


def sfp_calendar(date0: date) -> Calendar:
    """SFP-LGC-Va2 calendar: Date n = Date 0 + offset months."""
    # inferred: the SFP seed gives no hour; end of day (23:59:59) so that a datetime on
    # the deadline day is accepted, like a bare date.
    dates = {
        n: datetime.combine(add_months(date0, m), time(23, 59, 59))
        for n, m in SFP.month_offsets.items()
    }
    return Calendar(
        programme=SFP.code,
        date0=date0,
        dates=dates,
        signature_min=add_months(date0, SFP.signature_min_months),
        pilot_count=SFP.pilot_count,
        signature_days_before_complete_file=SFP.signature_days_before_complete_file,
        decision_days_before_date4=SFP.decision_days_before_date4,
    )


def _day(d: Day) -> date:
    return d.date() if isinstance(d, datetime) else d


def _after(value: Day, limit: datetime) -> bool:
    """True if valeur is strictly later than the deadline."""
    if isinstance(value, datetime):
        return value > limit
    # inferred: a bare date on the deadline's day cannot be shown to be after 12h: accepted.
    return value > limit.date()


def _before(value: Day, limit: Day) -> bool:
    """True if valeur is strictly earlier than limite (compared by day unless both datetimes)."""
    if isinstance(value, datetime) and isinstance(limit, datetime):
        return value < limit
    return _day(value) < _day(limit)


def fr(d: Day) -> str:
    """French date, with the hour if it is a datetime with one: 23/09/2026 12h00."""
    s = f"{d.day:02d}/{d.month:02d}/{d.year:04d}"
    if isinstance(d, datetime) and (d.hour, d.minute) not in ((0, 0), (23, 59)):
        s += f" {d.hour:02d}h{d.minute:02d}"
    return s


def check_bon_commande(
    cal: Calendar,
    *,
    emission_date: Day | None = None,
    signature_date: Day | None = None,
    referencing_date: Day | None = None,
    complete_file_date: Day | None = None,
    conditional_mention: bool | None = None,
) -> list[Violation]:
    """Rules of §4.3 « Calendrier d'établissement des bons de commande »."""
    p = cal.programme
    v: list[Violation] = []
    # « La date d'émission du bon de commande doit être postérieure à la Date 0 »
    # inferred: « postérieure » read strictly (an order issued on Date 0 itself is refused).
    if emission_date is not None and cal.date0 is not None and _day(emission_date) <= cal.date0:
        v.append(
            Violation(
                f"{p}.EMISSION_AVANT_DATE0",
                f"Le bon de commande est émis le {fr(emission_date)}, pas après la Date 0 "
                f"({fr(cal.date0)}) : émettez un nouveau bon de commande daté après le "
                f"{fr(cal.date0)}.",
                emission_date,
            )
        )
    if signature_date is not None:
        # SFP: « ne peut être antérieure à Date 0 + 12 mois » (the bound itself is allowed)
        if cal.signature_min is not None and _day(signature_date) < cal.signature_min:
            v.append(
                Violation(
                    f"{p}.SIGNATURE_AVANT_DATE0_PLUS_12_MOIS",
                    f"Le bon de commande est signé le {fr(signature_date)}, avant le "
                    f"{fr(cal.signature_min)} (Date 0 + 12 mois) : faites-le signer à "
                    "partir de cette date.",
                    signature_date,
                )
            )
        # « ne peut pas être postérieure à la Date 4 »
        if _after(signature_date, cal.date(4)):
            v.append(
                Violation(
                    f"{p}.SIGNATURE_APRES_DATE4",
                    f"Le bon de commande est signé le {fr(signature_date)}, après la Date 4 "
                    f"({fr(cal.date(4))}) : la commande n'est pas finançable ; vérifiez la "
                    "date de signature saisie.",
                    signature_date,
                )
            )
        before_referencing = referencing_date is None or _before(signature_date, referencing_date)
        if before_referencing and complete_file_date is not None:
            gap = (_day(complete_file_date) - _day(signature_date)).days
            n = cal.signature_days_before_complete_file
            if gap > n:
                v.append(
                    Violation(
                        f"{p}.SIGNATURE_TROP_TOT_AVANT_DOSSIER_COMPLET",
                        f"Signé le {fr(signature_date)} avant le référencement, le bon de "
                        f"commande précède de {gap} jours le dépôt du dossier complet de "
                        f"preuves ({fr(complete_file_date)}) : {n} jours calendaires au plus. "
                        "Faites signer un nouveau bon de commande à partir du "
                        f"{fr(_day(complete_file_date) - timedelta(days=n))}.",
                        signature_date,
                    )
                )
        if before_referencing and conditional_mention is False:
            v.append(
                Violation(
                    f"{p}.MENTION_CONDITIONNELLE_ABSENTE",
                    "Bon de commande signé avant le référencement : il doit porter la mention "
                    "« Bon de commande conditionné à l'obtention par le logiciel du "
                    "référencement ANS… » ; faites signer un bon de commande qui la porte.",
                    conditional_mention,
                )
            )
    return v


def check_demande_avance(
    cal: Calendar,
    *,
    deposit_date: Day,
    referencing_date: Day | None = None,
    complete_file_date: Day | None = None,
) -> list[Violation]:
    """Rules of §2 and §6.2: advance request filed by Date 4, after référencement.

    Exception (§6.2): a complete dossier filed before Date 2 and no ANS decision 15 days
    before Date 4 allow filing before the référencement.
    """
    p = cal.programme
    v: list[Violation] = []
    if _after(deposit_date, cal.date(4)):
        v.append(
            Violation(
                f"{p}.AVANCE_APRES_DATE4",
                f"Demande de financement et d'avance déposée le {fr(deposit_date)}, après la "
                f"Date 4 ({fr(cal.date(4))}) : elle est irrecevable.",
                deposit_date,
            )
        )
    if referencing_date is None or _before(deposit_date, referencing_date):
        limit = cal.date(4) - timedelta(days=cal.decision_days_before_date4)
        exception = (
            complete_file_date is not None
            # « dépôt de dossier complet de référencement avant la Date 2 », the « Date limite de
            # dépôt d'un dossier complet » (§2): read like every deadline here, a bare date on
            # Date 2's day is in time, as a datetime of that morning is
            and not _after(complete_file_date, cal.date(2))
            and (referencing_date is None or _after(referencing_date, limit))
            # inferred: « n'aurait pas été prononcée quinze jours avant la Date 4 » — the
            # filing can only rely on the exception from that day on.
            and not _before(deposit_date, limit)
        )
        if not exception:
            v.append(
                Violation(
                    f"{p}.AVANCE_AVANT_REFERENCEMENT",
                    f"Demande d'avance déposée le {fr(deposit_date)} alors que le logiciel "
                    "n'est pas encore référencé : déposez-la après l'obtention du "
                    "référencement ANS (exception : dossier complet de référencement déposé "
                    f"avant la Date 2 ({fr(cal.date(2))}) et aucune décision de l'ANS quinze "
                    f"jours avant la Date 4, le {fr(limit)} ; la demande peut alors être "
                    "déposée à partir de cette date).",
                    deposit_date,
                )
            )
    return v


def check_realisation(cal: Calendar, *, prestation_end_date: Day) -> list[Violation]:
    """§4.4: the Prestation Ségur is completed at the latest at Date 5."""
    # inferred: §4.4 says « avant la Date 5 » and §6.4 « au plus tard à la Date 5 »; the
    # inclusive reading is kept.
    if _after(prestation_end_date, cal.date(5)):
        return [
            Violation(
                f"{cal.programme}.PRESTATION_APRES_DATE5",
                f"Prestation terminée le {fr(prestation_end_date)}, après la Date 5 "
                f"({fr(cal.date(5))}) : elle n'est pas finançable et l'avance perçue doit "
                "être reversée ; vérifiez la date de fin saisie.",
                prestation_end_date,
            )
        ]
    return []


def check_demande_solde(
    cal: Calendar,
    *,
    deposit_date: Day,
    prestation_end_date: Day | None = None,
    end_certificate_date: Day | None = None,
    valid_pilot_count: int | None = None,
    avance_validated: bool | None = None,
) -> list[Violation]:
    """§2, §6.3, §6.4: balance request rules (Date 5/Date 6, pilots, validated advance)."""
    p = cal.programme
    v: list[Violation] = []
    if _after(deposit_date, cal.date(6)):
        v.append(
            Violation(
                f"{p}.SOLDE_APRES_DATE6",
                f"Demande de solde déposée le {fr(deposit_date)}, après la Date 6 "
                f"({fr(cal.date(6))}) : elle est irrecevable.",
                deposit_date,
            )
        )
    elif _after(deposit_date, cal.date(5)) and (
        end_certificate_date is None or _after(end_certificate_date, cal.date(5))
    ):
        v.append(
            Violation(
                f"{p}.ATTESTATION_FIN_MANQUANTE",
                f"Demande de solde déposée le {fr(deposit_date)}, après la Date 5 "
                f"({fr(cal.date(5))}) : une attestation de fin de Prestation envoyée au plus "
                "tard à la Date 5 est exigée ; indiquez sa date d'envoi.",
                end_certificate_date,
            )
        )
    if prestation_end_date is not None:
        v.extend(check_realisation(cal, prestation_end_date=prestation_end_date))
        if _before(deposit_date, prestation_end_date):
            v.append(
                Violation(
                    f"{p}.SOLDE_AVANT_FIN_PRESTATION",
                    f"Demande de solde déposée le {fr(deposit_date)}, avant la fin de la "
                    f"Prestation ({fr(prestation_end_date)}) : déposez-la une fois la "
                    "Prestation réalisée et la VA signée.",
                    deposit_date,
                )
            )
    if valid_pilot_count is not None and valid_pilot_count < cal.pilot_count:
        v.append(
            Violation(
                f"{p}.PILOTES_INSUFFISANTS",
                f"{valid_pilot_count} installation(s) pilote(s) validée(s) sur "
                f"{cal.pilot_count} requises : aucune demande de solde avant la validation "
                f"par l'ANS des {cal.pilot_count} PV pilotes.",
                valid_pilot_count,
            )
        )
    if avance_validated is False:
        v.append(
            Violation(
                f"{p}.AVANCE_NON_VALIDEE",
                "La demande de financement et d'avance correspondante n'a pas été validée "
                "par l'ASP : attendez sa validation avant de déposer le solde.",
                avance_validated,
            )
        )
    return v
