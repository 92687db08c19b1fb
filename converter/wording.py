"""French wording shared by the messages: no dependency, so that every module can use it (the
ledger too, which the second process imports without Polars)."""

from __future__ import annotations


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """A count and its noun, agreed as French does: « 1 demande », « 0 demande », « 3 demandes »,
    « 1 234 demandes » (never « 3 demande(s) »).

    >>> counted(1, "demande"), counted(3, "demande"), counted(1234, "fichier")
    ('1 demande', '3 demandes', '1 234 fichiers')
    >>> counted(2, "demande libérée", "demandes libérées")
    '2 demandes libérées'
    """
    return f"{n:,}".replace(",", " ") + " " + (singular if n < 2 else plural or singular + "s")
