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


def command_arg(path: object) -> str:
    """A path as a message's suggested command needs it, to be copied and pasted: between double
    quotes when it holds a space or a character a shell reads (both the Windows console and a
    Unix shell take "…" as one argument).

    >>> command_arg("retours/r1.json"), command_arg("Ségur démarches/Avances été.xlsx")
    ('retours/r1.json', '"Ségur démarches/Avances été.xlsx"')
    """
    text = str(path)
    return f'"{text}"' if any(c.isspace() or c in "&()|;<>'$`!*?[]{}^%~#" for c in text) or not text else text
