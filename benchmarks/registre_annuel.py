"""Banc de mesure des commandes de xl2segur sur le registre d'une année.

    python benchmarks/registre_annuel.py [--semaines 50] [--demandes 5000] [--garder DOSSIER]

1. Construit (une fois, puis le garde en cache dans le dossier temporaire, clé
   semaines/demandes/graine) le registre d'un éditeur après un an de dépôts, par l'API de la
   bibliothèque (`converter.api.import_deposits`, celle de « xl2segur importer » : chaque
   fichier est contrôlé par son schéma JSON puis inscrit comme un fichier écrit par
   xl2segur) : chaque semaine, une avance MS2 DUI PDS et une DUI PDE (régime TVA HT ou TTC),
   les soldes MS2 (PDS et PDE) de 80 % des avances acceptées huit semaines plus tôt, un solde
   MDV ; sous deux numeroAns. Les fichiers des semaines passées reviennent de l'ASP (le fichier
   de retour importé inscrit le dépôt et ses résultats) : 95 % des avances acceptées avec leur
   numéro ASP, les autres rejetées ; un fichier de solde sur huit porte un solde rejeté (tout
   le fichier l'est alors). Ceux des deux dernières semaines attendent leur retour ; deux sont
   retirés (« xl2segur retirer »). La génération tourne dans un processus à part.
2. Sur une copie neuve du registre pour chacune, mesure comme un utilisateur les lance (durée
   de bout en bout, pic mémoire du processus) : `etat`, `solde` (le classeur), `convertir` de
   10 demandes, `retour` d'un fichier, `retirer` d'un fichier.

`--pythonpath DOSSIER` mesure le code d'un autre dossier (PYTHONPATH des commandes : une
autre version de xl2segur sur le même registre, pour comparer) ; `--garder DOSSIER` y garde
le classeur d'état et les classeurs de solde écrits, pour comparer leurs valeurs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from convertir import ALPHANUM, _finess, generate  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "xl2segur-bench"
EXPECTED = ROOT / "tests" / "expected"  # one deposit file of each format, the seeds' examples
VENDORS = [("0123456789", "73282932000074"), ("0987654321", "55210055400013")]
FIRST_SERIAL = 36 ** 4 * 10  # « A0000 »: never a numeroEditeur of benchmarks/convertir.py (« 00000 »…)
ACCEPTED = ("0", "Demande acceptée")
REJECTED = ("1", "Pièce justificative illisible")
LINES_PER_FILE = 200
SOLDE_DELAY = 8  # weeks between an avance and its solde


def _code(serial: int, width: int = 5) -> str:
    out = ""
    for _ in range(width):
        serial, r = divmod(serial, 36)
        out = ALPHANUM[r] + out
    return out


def _templates() -> dict[str, tuple[str, dict[str, str]]]:
    """format → (one demande of its seed example as JSON text, the values to replace in it)."""
    def line(name: str, index: int = 0) -> str:
        return json.dumps(json.loads((EXPECTED / f"{name}.json").read_text())["lignesImport"][index], ensure_ascii=False)

    pds = line("ms2-dui-pds-avance")
    pde_solde = line("ms2-dui-pde-solde")
    return {
        "ms2-dui-pds-avance": (pds, {}),
        "ms2-dui-pde-avance": (pds.replace("MS2-DUI-Va1-", "MS2-DUI PDE-Va1-").replace('"profilMetier": "PDS"', '"profilMetier": null'), {}),
        "ms2-dui-pde-solde": (pde_solde, {}),
        "ms2-dui-pds-solde": (pde_solde.replace("MS2-DUI PDE-Va1-", "MS2-DUI-Va1-"), {}),
        "mdv-lgc-solde": (line("mdv-lgc-solde"), {}),
    }


def _demande(template: str, fmt: str, serial: int, cents: int, regime: str, numero_asp: str | None = None,
             ne: str | None = None) -> dict[str, object]:
    """One demande of `fmt`: the seed's example under its own numeroEditeur, FINESS and amount."""
    old_ne, old_amount = {"ms2-dui-pds-avance": ("00001", "4866.67"), "ms2-dui-pde-avance": ("00001", "4866.67"),
                          "mdv-lgc-solde": ("00002", "1075.0")}.get(fmt, ("00002", "4866.67"))
    text = template.replace(old_ne, ne or _code(serial)).replace(f": {old_amount}", f": {cents // 100}.{cents % 100:02d}")
    if fmt.startswith("ms2"):  # after the numeroEditeur: a FINESS may hold « 00001 »
        for old, k in (("345678912", 0), ("123456789", 1), ("234567891", 2)):
            text = text.replace(f'"{old}"', f'"{_finess(3 * serial + k)}"')
    text = text.replace('"regimeTVA": "TTC"', f'"regimeTVA": "{regime}"')
    line = json.loads(text)
    if numero_asp is not None:
        line["numeroASP"] = numero_asp
    return line


def _write(folder: Path, numero_ans: str, siret: str, day: date, rank: int, lines: list[dict[str, object]],
           outcomes: list[tuple[str, str, str | None]] | None, imp: str) -> Path:
    """A deposit file named as the ASP wants; with `outcomes`, its return (codeTraitement,
    libelleTraitement, numeroASP per demande)."""
    for n, line in enumerate(lines, start=1):
        line["numLigne"] = n
    if outcomes is not None:
        lines = [{**line, "codeTraitement": code, "libelleTraitement": label,
                  **({"numeroASP": asp} if asp else {})} for line, (code, label, asp) in zip(lines, outcomes)]
    document = {"impId": imp if outcomes is not None else None, "numeroAns": numero_ans, "SIRET": siret, "lignesImport": lines}
    path = folder / f"JSON-{numero_ans}-{day:%Y%m%d}-{rank:05d}.json"
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def build(target: Path, weeks: int, size: int, seed: int) -> dict[str, object]:
    """The year's ledger at `target` (its deposit files beside it, in `depots/`); returns what the
    measures need: a deposit and its return awaiting `retour`, a file to withdraw."""
    from converter import api

    rng = random.Random(seed)
    templates = _templates()
    folder = target.parent / "depots"
    returns = target.parent / "retours"
    folder.mkdir(parents=True)
    returns.mkdir()
    serial = FIRST_SERIAL
    accepted: dict[int, list[tuple[str, str, int, str, str, str]]] = {}  # week → (fmt, ne, cents, asp, ans, siret)
    pending: list[tuple[str, Path]] = []  # (format, return file) of the last weeks, not imported
    start = date(2025, 12, 1)
    total = 0
    began = time.perf_counter()
    for week in range(weeks):
        day = start + timedelta(weeks=week)
        numero_ans, siret = VENDORS[week % len(VENDORS)]
        answered = week < weeks - 2
        files: list[tuple[str, list[dict[str, object]], list[tuple[str, str, str | None]]]] = []
        week_accepted = accepted.setdefault(week, [])
        for fmt, share in (("ms2-dui-pds-avance", 0.45), ("ms2-dui-pde-avance", 0.2)):
            n = max(1, int(size * share * rng.uniform(0.6, 1.4)))
            lines, outcomes = [], []
            for _ in range(n):
                cents = rng.randrange(50_000, 1_500_000)
                regime = "TTC" if rng.random() < 0.6 else "HT"
                lines.append(_demande(templates[fmt][0], fmt, serial, cents, regime))
                if rng.random() < 0.95:
                    asp = "FINMS2" + _code(serial, 6)
                    outcomes.append((*ACCEPTED, asp))
                    week_accepted.append((fmt, _code(serial), cents, asp, numero_ans, siret))
                else:
                    outcomes.append((*REJECTED, None))
                serial += 1
            files.append((fmt, lines, outcomes))
        # the soldes of the avances accepted SOLDE_DELAY weeks before (80 %), under their numeroAns
        for avance_fmt, solde_fmt in (("ms2-dui-pds-avance", "ms2-dui-pds-solde"), ("ms2-dui-pde-avance", "ms2-dui-pde-solde")):
            due = [a for a in accepted.get(week - SOLDE_DELAY, []) if a[0] == avance_fmt and rng.random() < 0.8]
            by_vendor: dict[tuple[str, str], list[tuple[str, str, int, str, str, str]]] = {}
            for a in due:
                by_vendor.setdefault((a[4], a[5]), []).append(a)
            for (ans, sir), group in by_vendor.items():
                lines = [_demande(templates[solde_fmt][0], solde_fmt, serial + i, cents, "", asp, ne)
                         for i, (_, ne, cents, asp, _, _) in enumerate(group)]
                serial += len(group)
                outcomes = [(*ACCEPTED, None)] * len(lines)
                for first in range(0, len(lines), LINES_PER_FILE):  # one file in eight with a solde rejected
                    if rng.random() < 1 / 8:
                        outcomes[first + rng.randrange(min(LINES_PER_FILE, len(lines) - first))] = (*REJECTED, None)
                files.append((solde_fmt + "|" + ans + "|" + sir, lines, outcomes))
        n = max(1, int(size * 0.1 * rng.uniform(0.6, 1.4)))
        lines = []
        for _ in range(n):
            lines.append(_demande(templates["mdv-lgc-solde"][0], "mdv-lgc-solde", serial, rng.randrange(50_000, 1_000_000),
                                  "", "FINMDV" + _code(serial, 6)))
            serial += 1
        files.append(("mdv-lgc-solde", lines, [(*ACCEPTED, None)] * n))
        paths, formats = [], []
        ranks: dict[str, int] = {}
        for key, lines, outcomes in files:
            fmt, ans, sir = (key.split("|") + [numero_ans, siret])[:3]
            for first in range(0, len(lines), LINES_PER_FILE):  # 200 demandes a file at most (the schema's maxItems)
                part, said = lines[first:first + LINES_PER_FILE], outcomes[first:first + LINES_PER_FILE]
                rank = ranks[ans] = ranks.get(ans, 0) + 1
                imp = f"IMP{week:03d}{ans[:2]}{rank:04d}"
                if answered:
                    path = _write(returns, ans, sir, day, rank, part, said, imp)
                else:
                    path = _write(folder, ans, sir, day, rank, part, None, imp)
                    pending.append((fmt, _write(returns, ans, sir, day, rank, json.loads(json.dumps(part)), said, imp)))
                paths.append(path)
                formats.append(fmt)
                total += len(part)
        for fmt in dict.fromkeys(formats):
            done = api.import_deposits([p for p, f in zip(paths, formats) if f == fmt], target, fmt)
            refused = [d for d in done if d.refused]
            if refused:
                raise RuntimeError(f"{refused[0].path.name} : {refused[0].refused}")
        print(f"  semaine {week + 1}/{weeks} : {total} demandes inscrites ({time.perf_counter() - began:.0f} s)",
              file=sys.stderr, flush=True)
    # two files of the last weeks withdrawn, never to be uploaded; the return of another one awaits `retour`
    withdrawn = [p for f, p in pending if f.endswith("avance")][:2]
    for path in withdrawn:
        api.withdraw(path.name, target)
    left = [(f, p) for f, p in pending if p not in withdrawn]
    retour = next(p for f, p in left if f == "ms2-dui-pds-avance")
    retirer = next(p for f, p in left if f == "ms2-dui-pde-avance")
    return {"demandes": total, "retour": str(retour), "retirer": retirer.name,
            "generation_s": round(time.perf_counter() - began, 1)}


def cached_ledger(weeks: int, size: int, seed: int, pythonpath: str | None) -> tuple[Path, dict[str, object]]:
    folder = CACHE / f"registre-annuel-{weeks}-{size}-{seed}"
    facts = folder / "registre.json"
    if not facts.is_file():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        print(f"génération du registre d'une année dans {folder}…", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, __file__, "--semaines", str(weeks), "--demandes", str(size), "--graine", str(seed),
                        "--generer", str(folder / "xl2segur.sqlite")], check=True, env=_env(pythonpath))
    return folder / "xl2segur.sqlite", json.loads(facts.read_text())


def _env(pythonpath: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


def run(args: list[str], cwd: Path, env: dict[str, str]) -> dict[str, object]:
    """One command as a user runs it: its wall time, CPU time, peak memory, exit code."""
    return _process([sys.executable, "-m", "converter", *args], cwd, env)


def run_python(code: str, args: list[str], cwd: Path, env: dict[str, str]) -> dict[str, object]:
    return _process([sys.executable, "-c", code, *args], cwd, env)


def _process(argv: list[str], cwd: Path, env: dict[str, str]) -> dict[str, object]:
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    process.stdin.close()
    printed = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    return {"s": round(time.perf_counter() - started, 2), "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
            "pic_rss_mio": round(usage.ru_maxrss / 1024), "code": os.waitstatus_to_exitcode(status),
            "sortie": printed.decode(errors="replace")}


def measure(ledger: Path, facts: dict[str, object], pythonpath: str | None, keep: Path | None) -> dict[str, dict[str, object]]:
    env = _env(pythonpath)
    work = Path(tempfile.mkdtemp(prefix="xl2segur-annuel-"))
    results = {}
    try:
        workbook = work / "dix.xlsx"
        generate(workbook, 10, 0.0, 1, "texte")
        commands = {
            "etat": ["etat", "-o", str(work / "etat.xlsx")],
            "solde": ["solde", "--format", "ms2-dui-pds-avance", "-o", str(work / "soldes")],
            "convertir (10 demandes)": ["convertir", str(workbook), "-o", str(work / "depot"), "--date-depot", "20261207"],
            "retour (1 fichier)": ["retour", str(facts["retour"]), "-o", str(work / "bilan.xlsx")],
            "retirer (1 fichier)": ["retirer", str(facts["retirer"]), "--oui"],
        }
        # the year's ledger as the measured version opens it: a ledger of an older schema is migrated
        # once (its first command after an update pays it), on a copy, timed on its own
        source = work / "source.sqlite"
        shutil.copyfile(ledger, source)
        results["ouverture (migration éventuelle)"] = run_python(
            "import sys; from converter.ledger import Ledger; Ledger(sys.argv[1]).close()", [str(source)], work, env)
        for name, command in commands.items():
            copy = work / "registre.sqlite"
            shutil.copyfile(source, copy)  # a fresh copy each: every command sees the same year
            results[name] = run([*command, "--registre" if command[0] != "solde" else "--depuis", str(copy)], work, env)
            copy.unlink()
            for suffix in ("-wal", "-shm", "-journal"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
            if name.startswith("retirer"):  # the file goes back where the year left it
                for moved in (ledger.parent / "depots" / "retires").glob(f"{Path(str(facts['retirer'])).stem}*"):
                    shutil.move(moved, ledger.parent / "depots" / moved.name)
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / "etat.xlsx", keep / "etat.xlsx")
            shutil.copytree(work / "soldes", keep / "soldes", dirs_exist_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--semaines", type=int, default=50, help="semaines de dépôts (50 par défaut)")
    parser.add_argument("--demandes", type=int, default=5000, help="demandes d'avance et de solde MDV par semaine, en moyenne "
                        "(5000 par défaut ; les soldes MS2 s'y ajoutent)")
    parser.add_argument("--graine", type=int, default=1, help="graine du générateur")
    parser.add_argument("--pythonpath", help="PYTHONPATH des commandes mesurées (une autre version de xl2segur)")
    parser.add_argument("--garder", type=Path, help="dossier où garder le classeur d'état et les classeurs de solde")
    parser.add_argument("--json", action="store_true", help="imprime aussi les chiffres en une ligne JSON")
    parser.add_argument("--generer", type=Path, help=argparse.SUPPRESS)  # internal: child process
    args = parser.parse_args(argv)
    if args.generer:
        facts = build(args.generer, args.semaines, args.demandes, args.graine)
        (args.generer.parent / "registre.json").write_text(json.dumps(facts))
        return 0
    ledger, facts = cached_ledger(args.semaines, args.demandes, args.graine, args.pythonpath)
    size = ledger.stat().st_size
    print(f"Registre : {ledger} — {facts['demandes']} demandes, {size / 2**20:.0f} Mio "
          f"(généré en {facts['generation_s']} s)")
    results = measure(ledger, facts, args.pythonpath, args.garder)
    for name, r in results.items():
        print(f"  {name:<33} {r['s']:>8.2f} s  (CPU {r['cpu_s']:.2f} s)  pic {r['pic_rss_mio']:>5} Mio  code {r['code']}")
        if r["code"] not in (0, 1):
            print("    " + "\n    ".join(str(r["sortie"]).splitlines()[-8:]))
    if args.json:
        print(json.dumps({k: {x: y for x, y in r.items() if x != "sortie"} for k, r in results.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
