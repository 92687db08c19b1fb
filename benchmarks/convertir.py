"""Banc de mesure de `xl2segur convertir` sur un gros classeur synthétique.

    python benchmarks/convertir.py --demandes 100000 [--rejets 0.01]

1. Génère (une fois, puis le garde en cache dans le dossier temporaire, clé N/rejets/graine)
   un classeur `ms2-dui-pds-avance` valide : en moyenne 1,5 OG et 3 ESMS par demande,
   FINESS à clé de Luhn valide. Avec `--rejets`, cette fraction des demandes porte une erreur
   (FINESS juridique de 8 chiffres, ou date de commande absente). La génération tourne dans un
   processus à part, pour que sa mémoire ne compte pas dans le pic mesuré.
2. Dans UN processus de mesure : la lecture nue des feuilles (fastexcel → Polars, en texte,
   comme reading.py), puis `converter.api.convert` de bout en bout (fichiers JSON et, s'il y a
   des rejets, classeur d'erreurs).
3. Affiche N, lecture nue (s), conversion (s), leur rapport, le pic mémoire (ru_maxrss du
   processus de mesure : lecture nue + conversion ; la génération n'y est pas ; à part, celui
   du second processus qui contrôle les fichiers contre le schéma) et les fichiers.

`--repetitions K` refait la mesure K fois, chaque fois dans un processus neuf, et retient la
médiane de chaque durée et la médiane des rapports de chaque mesure (lecture nue et conversion
d'une même mesure se suivent : leur rapport ne dépend guère de la charge du moment, sur une
machine partagée) ; la meilleure durée est affichée à côté, le pic mémoire retenu est le plus haut.
`--json` imprime aussi les chiffres en une ligne JSON (pour un tableau).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

FORMAT_ID = "ms2-dui-pds-avance"
HEADER = {"numeroAns": "0123456789", "SIRET": "73282932000074", "format": FORMAT_ID}
CACHE = Path(tempfile.gettempdir()) / "xl2segur-bench"

NAMES = ["MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY",
         "MOREAU", "SIMON", "LAURENT", "LEFÈVRE", "MICHEL", "GARCIA", "DAVID", "BERTRAND", "ROUX",
         "VINCENT", "FOURNIER", "MOREL", "GIRARD", "ANDRÉ", "MERCIER", "DUPONT", "LAMBERT", "BONNET",
         "FRANÇOIS", "MARTINEZ", "LEGRAND", "GARNIER", "FAURE", "ROUSSEAU", "BLANC", "GUÉRIN",
         "MULLER", "HENRY", "ROUSSEL", "NICOLAS", "PERRIN", "MORIN", "MATHIEU", "CLÉMENT", "GAUTHIER",
         "DUMONT", "LOPEZ", "FONTAINE", "CHEVALIER", "ROBIN", "MASSON", "LE GALL", "N'DIAYE",
         "SANCHEZ-MARTIN", "DE LA FONTAINE"]
DOMAINS = ["ehpad-les-tilleuls.fr", "association-ages.org", "ssiad-grand-est.fr", "mairie-beaune.fr",
           "groupe-sos.org", "adapei35.asso.fr", "korian.fr", "croix-rouge.fr", "ccas-lille.fr"]
ALPHANUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def luhn_key(digits: str) -> str:
    """The digit that makes `digits + key` pass Luhn (converter/kinds/luhn.py checks it)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # these digits are doubled once the key is appended
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def _finess(serial: int) -> str:
    """A distinct FINESS per serial: a department (01–95, or Corse 2A/2B), 6 digits, the key."""
    dept = serial % 97 + 1
    body = f"{serial // 97:06d}"
    if dept == 20:
        prefix, key_prefix = ("2A", "20") if serial % 2 else ("2B", "20")
    else:
        prefix = key_prefix = f"{dept:02d}"
    return prefix + body + luhn_key(key_prefix + body)


def _numero_editeur(i: int) -> str:
    out = ""
    for _ in range(5):
        i, r = divmod(i, 36)
        out = ALPHANUM[r] + out
    return out


def _rejected_indexes(n: int, rate: float) -> set[int]:
    """Exactly floor(n × rate) demandes, spread evenly through the workbook."""
    return {i for i in range(n) if int((i + 1) * rate) > int(i * rate)}


def _phone(rng: random.Random) -> str:
    return f"+33{rng.choice('1234567'):s}{rng.randrange(10**8):08d}"


def _email(rng: random.Random, name: str) -> str:
    local = name.lower().replace(" ", "-").replace("'", "")
    local = local.translate(str.maketrans("èéêàçîôûë", "eeeacioue"))
    return f"{local}.{rng.randrange(1000)}@{rng.choice(DOMAINS)}"


def generate_rows(n: int, rejets: float = 0.0, seed: int = 1) -> tuple[dict[str, list[dict[str, str | None]]], int]:
    """The rows of every sheet (balise → text, None = empty cell) and the number of demandes
    made invalid on purpose: an 8-digit FINESSJuridique, or no dateCommande, in turn."""
    rng = random.Random(seed)
    rand, choice, randrange = rng.random, rng.choice, rng.randrange
    operators = _operator_codes()
    bad = _rejected_indexes(n, rejets) if rejets else set()
    rows: dict[str, list[dict[str, str | None]]] = {
        "Entête": [dict(HEADER)], "Demandes": [], "OG": [], "FINESS Géo": [], "Scénarios": [], "Pièces": []}
    demandes, ogs, geos, scenarios, pieces = (rows[k] for k in ("Demandes", "OG", "FINESS Géo", "Scénarios", "Pièces"))
    finess_serial = 1000
    days = [(date(2023, 1, 2) + timedelta(days=d)).strftime("%d/%m/%Y") for d in range(700)]
    versions = ["4.2", "5.0.1", "V2023.3", "12.4 build 118"]
    for i in range(n):
        ne = _numero_editeur(i)
        faulty = i in bad
        demande = {"numeroEditeur": ne, "dateCommande": None if faulty and i % 2 else choice(days),
                   "regimeTVA": "HT" if rand() < 0.2 else "TTC",
                   "montantSegurHT": f"{randrange(50_000, 2_000_000) / 100:.2f}", "isMandataire": "FAUX"}
        if rand() < 0.1:
            name = choice(NAMES)
            demande.update(isMandataire="VRAI", nomMandataire=name, emailMandataire=_email(rng, name),
                           telephoneMandataire=_phone(rng))
        demandes.append(demande)
        if rand() < 0.05:
            pieces.append({"numeroEditeur": ne, "typeFichier": "BON_COMMANDE", "formatFichier": choice(["PNG", "JPG"])})
        for k in range(1 if rand() < 0.5 else 2):
            finess_serial += 1
            fj = _finess(finess_serial)
            resp = choice(NAMES)
            og = {"numeroEditeur": ne, "FINESSJuridique": fj[:8] if faulty and i % 2 == 0 and k == 0 else fj,
                  "demandeCertificatServeur": "FAUX", "nomResponsableOG": resp,
                  "emailResponsableOG": _email(rng, resp), "telephoneResponsableOG": _phone(rng)}
            if rand() < 0.6:
                statut = choice("SE")
                contrat_og = rand() < 0.7
                contrat_ed = rand() < 0.5 if statut == "E" else None
                admin = choice(NAMES)[:24]
                og.update(demandeCertificatServeur="VRAI", contractualisationOG="VRAI" if contrat_og else "FAUX",
                          statutAdminTechnique=statut, nomAdminTechnique=admin, telAdminTechnique=_phone(rng),
                          emailAdminTechnique=_email(rng, admin), utiliteCertificat=choice(["DMP", "INS", "DMP, INS"]))
                if contrat_ed is not None:
                    og["contractualisationEditeur"] = "VRAI" if contrat_ed else "FAUX"
                if (statut == "S" and contrat_og) or (statut == "E" and contrat_ed):
                    og["numeroCarteCPX"] = "".join(choice(ALPHANUM) for _ in range(10))
            ogs.append(og)
            for _ in range(choice((1, 2, 3))):
                finess_serial += 1
                fg = _finess(finess_serial)
                geos.append({"numeroEditeur": ne, "FINESSJuridique": fj, "FINESSGeo": fg})
                maitre = rand() < 0.5
                scenario = {"numeroEditeur": ne, "FINESSGeo": fg, "ancienneVersion": choice(versions),
                            "isMaitreId": "VRAI" if maitre else "FAUX",
                            "IsStockageId": "VRAI" if rand() < 0.3 else "FAUX"}
                if rand() < 0.6:
                    scenario["operateurMessagerie"] = choice(operators)
                if rand() < 0.5:
                    scenario["profilMetier"] = "PDS"
                if maitre and rand() < 0.8:
                    scenario["IsRefSoins"] = "VRAI" if rand() < 0.5 else "FAUX"
                scenarios.append(scenario)
    return rows, len(bad)


def _operator_codes() -> tuple[str, ...]:
    from converter.reference import operator_codes
    return operator_codes()


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        '{sheets}</Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
        '</Relationships>'),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<numFmts count="0"/><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '</styleSheet>'),
}


def write_xlsx(path: Path, rows: dict[str, list[dict[str, str | None]]]) -> Path:
    """An .xlsx as Excel saves one (shared strings, text-formatted cells), written directly:
    xlsxwriter costs ~10 µs a cell, far too slow for the millions of cells of N = 100,000."""
    from converter.formats.model import column_letter

    import zipfile

    from converter.formats import get_format

    definition = get_format(FORMAT_ID)
    sheets = [(s.name, s.balises) for s in (definition.header, *definition.sheets)]
    strings: dict[str, int] = {}
    index = strings.setdefault
    tmp = path.with_name(path.name + ".part")
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel_ns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for k, (name, balises) in enumerate(sheets, start=1):
            letters = [column_letter(c) for c in range(len(balises))]
            data = rows.get(name, [])
            last = f"{letters[-1]}{len(data) + 1}"
            parts = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {ns} {rel_ns}>'
                     f'<dimension ref="A1:{last}"/><sheetData>']
            cells = "".join(f'<c r="{l}1" t="s"><v>{index(b, len(strings))}</v></c>' for l, b in zip(letters, balises))
            parts.append(f'<row r="1">{cells}</row>')
            for r, row in enumerate(data, start=2):
                cells = "".join(
                    f'<c r="{l}{r}" s="1" t="s"><v>{index(v, len(strings))}</v></c>'
                    for l, b in zip(letters, balises) if (v := row.get(b)) is not None
                )
                parts.append(f'<row r="{r}">{cells}</row>')
            parts.append("</sheetData></worksheet>")
            zf.writestr(f"xl/worksheets/sheet{k}.xml", "".join(parts))
        body = "".join(f"<si><t>{_xml(s)}</t></si>" for s in strings)
        zf.writestr("xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    f'<sst {ns} count="{len(strings)}" uniqueCount="{len(strings)}">{body}</sst>')
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{k}.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for k in range(1, len(sheets) + 1))
        zf.writestr("[Content_Types].xml", _PARTS["[Content_Types].xml"].format(sheets=overrides))
        zf.writestr("_rels/.rels", _PARTS["_rels/.rels"])
        zf.writestr("xl/styles.xml", _PARTS["xl/styles.xml"])
        listed = "".join(f'<sheet name="{_xml(name)}" sheetId="{k}" r:id="rId{k}"/>'
                         for k, (name, _) in enumerate(sheets, start=1))
        zf.writestr("xl/workbook.xml", f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    f'<workbook {ns} {rel_ns}><sheets>{listed}</sheets></workbook>')
        rels = "".join(
            f'<Relationship Id="rId{k}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            f'Target="worksheets/sheet{k}.xml"/>' for k in range(1, len(sheets) + 1))
        n = len(sheets)
        rels += (f'<Relationship Id="rId{n + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
                 f'<Relationship Id="rId{n + 2}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>')
        zf.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>')
    tmp.replace(path)
    return path


def generate(path: Path, n: int, rejets: float = 0.0, seed: int = 1) -> int:
    """Write the synthetic workbook; return the number of demandes made invalid."""
    rows, bad = generate_rows(n, rejets, seed)
    write_xlsx(Path(path), rows)
    return bad


def cached_workbook(n: int, rejets: float, seed: int) -> tuple[Path, int, float | None]:
    """(path, demandes made invalid, generation seconds or None when cached)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{FORMAT_ID}-n{n}-r{rejets:g}-s{seed}.xlsx"
    meta = path.with_suffix(".json")
    if path.is_file() and meta.is_file():
        return path, json.loads(meta.read_text())["rejets"], None
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--generer", str(path), "--demandes", str(n), "--rejets", str(rejets),
         "--graine", str(seed)], check=True, capture_output=True, text=True,
    )
    bad = int(out.stdout.strip())
    meta.write_text(json.dumps({"demandes": n, "rejets": bad}))
    return path, bad, time.perf_counter() - started


def bare_read(path: Path) -> int:
    """What reading.py costs at the least: every sheet through fastexcel into Polars, as text."""
    import fastexcel

    reader = fastexcel.read_excel(path)
    cells = 0
    for name in reader.sheet_names:
        frame = reader.load_sheet(name, dtypes="string").to_polars()
        cells += frame.height * frame.width
    return cells


def _rss_of_children() -> int:
    """Resident bytes of this process's children now (the schema check's second process)."""
    total = 0
    for task in Path("/proc/self/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except OSError:  # a thread that ended meanwhile
            continue
        for pid in children:
            try:
                # not yet the second process: between fork and exec, a child shows its parent's memory
                if b"converter.validation" not in Path(f"/proc/{pid}/cmdline").read_bytes():
                    continue
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:  # ended meanwhile
                continue
            total += next((int(line.split()[1]) * 1024 for line in status.splitlines()
                           if line.startswith("VmRSS:")), 0)
    return total


class ChildrenPeak(threading.Thread):
    """Samples the children's memory every 20 ms: their ru_maxrss is no measure, Linux carries
    the parent's high-water mark over into a child it starts."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.done = 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, _rss_of_children())


def measure(path: Path, quiet: bool = True) -> dict[str, object]:
    from converter import api

    out = Path(tempfile.mkdtemp(prefix="xl2segur-bench-out-"))
    try:
        children = ChildrenPeak()
        children.start()
        started = time.perf_counter()
        bare_read(path)
        read_s = time.perf_counter() - started
        if quiet:  # (also runs against a version of xl2segur without progress display)
            started = time.perf_counter()
            outcome = api.convert(path, out, date(2024, 3, 12))
            convert_s = time.perf_counter() - started
        else:
            from converter.progress import progress_line

            with progress_line(force=True) as progress:
                started = time.perf_counter()
                outcome = api.convert(path, out, date(2024, 3, 12), progress=progress)
                convert_s = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
        children.done.set()
        children.join()
        helper = children.peak  # the second process that checks the files (converter/validation.py)
        return {
            "demandes": outcome.demandes, "acceptees": len(outcome.accepted), "rejetees": len(outcome.rejected),
            "lecture_s": round(read_s, 3), "conversion_s": round(convert_s, 3),
            "rapport": round(convert_s / read_s, 2), "pic_rss_mio": round(peak / 2**20),
            "pic_rss_controle_mio": round(helper / 2**20),
            "fichiers_json": len(outcome.files),
            "classeur_erreurs": str(outcome.error_workbook) if outcome.error_workbook else None,
            "octets_ecrits": sum(p.stat().st_size for p in out.iterdir()),
        }
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demandes", type=int, required=True, help="nombre de demandes (N)")
    parser.add_argument("--rejets", type=float, default=0.0, help="fraction de demandes invalides, ex. 0.01")
    parser.add_argument("--graine", type=int, default=1, help="graine du générateur")
    parser.add_argument("--json", action="store_true", help="imprime aussi une ligne JSON")
    parser.add_argument("--progression", action="store_true", help="affiche la progression de la conversion")
    parser.add_argument("--repetitions", type=int, default=1,
                        help="mesures successives (chacune dans un processus neuf) : la médiane de chaque "
                             "durée et des rapports est retenue, contre le bruit d'une machine partagée")
    parser.add_argument("--generer", type=Path, help=argparse.SUPPRESS)  # internal: child process
    parser.add_argument("--mesurer", type=Path, help=argparse.SUPPRESS)  # internal: child process
    args = parser.parse_args(argv)
    if args.generer:
        print(generate(args.generer, args.demandes, args.rejets, args.graine))
        return 0
    if args.mesurer:
        print(json.dumps(measure(args.mesurer, quiet=not args.progression)))
        return 0

    path, bad, gen_s = cached_workbook(args.demandes, args.rejets, args.graine)
    print(f"classeur : {path} ({path.stat().st_size / 2**20:.1f} Mio, "
          + (f"généré en {gen_s:.1f} s" if gen_s is not None else "en cache") + f", {bad} demandes invalides)")
    # measured in a process of its own, whose only child is the conversion's schema check
    # (the generator's memory stays out of the peak)
    runs = []
    for _ in range(max(1, args.repetitions)):
        child = subprocess.run([sys.executable, __file__, "--mesurer", str(path), "--demandes", str(args.demandes),
                                *(["--progression"] if args.progression else [])],
                               check=True, stdout=subprocess.PIPE, text=True)
        runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
        if args.repetitions > 1:
            print(f"  mesure {len(runs)} : lecture nue {runs[-1]['lecture_s']:.2f} s, "
                  f"convertir {runs[-1]['conversion_s']:.2f} s (×{runs[-1]['rapport']:.2f})")
    durations = ("lecture_s", "conversion_s")
    best = {key: min(r[key] for r in runs) for key in durations}
    result = {**runs[-1], **{key: statistics.median(r[key] for r in runs) for key in durations},
              **{key: max(r[key] for r in runs) for key in ("pic_rss_mio", "pic_rss_controle_mio")},
              "rapport": round(statistics.median(r["conversion_s"] / r["lecture_s"] for r in runs), 2),
              "repetitions": len(runs), "meilleures": best}
    several = len(runs) > 1
    if several:
        print(f"médianes de {len(runs)} mesures (entre parenthèses : la meilleure ; pic mémoire : le plus haut) :")

    def fastest(key: str) -> str:
        return f" (meilleure {best[key]:.2f} s)" if several else ""

    print(f"N = {result['demandes']} demandes ({result['acceptees']} acceptées, {result['rejetees']} rejetées)")
    print(f"lecture nue (fastexcel → Polars) : {result['lecture_s']:.2f} s{fastest('lecture_s')}")
    print(f"convertir (api.convert)          : {result['conversion_s']:.2f} s{fastest('conversion_s')}")
    print(f"rapport convertir / lecture      : {result['rapport']:.2f}"
          + (" (médiane des rapports de chaque mesure)" if several else ""))
    print(f"pic mémoire (lecture + conversion, sans la génération) : {result['pic_rss_mio']} Mio"
          f" (+ {result['pic_rss_controle_mio']} Mio pour le processus de contrôle du schéma)")
    print(f"fichiers écrits : {result['fichiers_json']} JSON"
          + (", 1 classeur d'erreurs" if result["classeur_erreurs"] else "")
          + f" ({result['octets_ecrits'] / 2**20:.1f} Mio)")
    if args.json:
        print(json.dumps({**result, "rejets_injectes": bad}))
    if result["rejetees"] != bad:
        print(f"ATTENTION : {bad} demandes rendues invalides, {result['rejetees']} rejetées", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    _root = str(Path(__file__).resolve().parent.parent)
    if _root not in sys.path:  # a checkout without `pip install -e .`; PYTHONPATH still comes first
        sys.path.append(_root)
    sys.exit(main())
