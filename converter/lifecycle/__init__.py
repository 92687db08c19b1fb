"""The deposit cycle after the conversion's own checks: what the ledger keeps of each demande
(facts.py), what a conversion checks against the ledger (against_ledger.py), a deposited
demande turned back into workbook rows (rows.py), the pre-filled solde workbook (solde.py) and
the expected advances of a conversion's accepted demandes (advances.py).

Everything here is generic, read from the definitions.
"""
