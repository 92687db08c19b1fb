"""Calendars of HOP-PFI-Va2 (absolute dates) and SFP-LGC-Va2 (Date 0 + n months).

``hop_calendar`` / ``sfp_calendar`` resolve a programme's dates; ``checks/rules.py`` compares
every order of a workbook to them in Polars. ``check_bon_commande`` reads one order the same
way, a ``Violation`` per broken rule: the per-order reference that tests/test_orders.py holds
the Polars rule to. An argument left to ``None`` is not checked, except ``referencing_date``
where ``None`` means « logiciel pas (encore) référencé ».

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
    signature_days_before_complete_file: int

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
        signature_days_before_complete_file=HOP.signature_days_before_complete_file,
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
        signature_days_before_complete_file=SFP.signature_days_before_complete_file,
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
