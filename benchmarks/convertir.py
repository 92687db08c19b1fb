"""Banc de mesure de `xl2segur convertir` sur de gros classeurs synthétiques.

    python benchmarks/convertir.py --demandes 100000 [--rejets 0.01] [--forme texte|excel|les-deux]

1. Génère (une fois, puis le garde en cache dans le dossier temporaire, clé forme/N/rejets/graine)
   un classeur `ms2-dui-pds-avance` valide de chaque forme, FINESS à clé de Luhn valide :
   « texte », en moyenne 1,5 OG et 3 ESMS par demande, toutes les cellules en texte ;
   « excel », 1 OG et 2 ESMS par demande, typé comme Excel enregistre ce qu'on y saisit
   (montants en nombres, VRAI/FAUX en booléens, dates de commande en dates).
   Avec `--rejets`, cette fraction des demandes porte une erreur (FINESS juridique de
   8 chiffres, ou date de commande absente). La génération tourne dans un processus à part,
   pour que sa mémoire ne compte pas dans le pic mesuré.
2. Pour chaque forme, dans un processus de mesure : la lecture nue des feuilles (fastexcel →
   Polars, en texte, comme reading.py), puis `converter.api.convert` de bout en bout (fichiers
   JSON et, s'il y a des rejets, classeur d'erreurs) ; puis le processus `xl2segur convertir`
   tel qu'un utilisateur le lance (durée de bout en bout, démarrage de Python compris ; pic
   mémoire de ce processus et, échantillonné, de son second processus).
3. Affiche N, la lecture nue (s), api.convert et xl2segur convertir (s, et leur rapport à la
   lecture nue de la même mesure), les pics mémoire et les fichiers.

`--repetitions K` refait la mesure K fois, chaque fois dans des processus neufs, et retient la
médiane de chaque durée et la médiane des rapports de chaque mesure (lecture nue, api.convert et
xl2segur convertir d'une même mesure se suivent : leur rapport dépend moins de la charge du
moment, sur une machine partagée) ; la meilleure durée est affichée à côté, le pic mémoire
retenu est le plus haut. `--json` imprime aussi les chiffres de chaque forme en une ligne JSON.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
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


Cell = str | bool | float | date | None
SHAPES = {  # --forme: (description, typed cells, OG per demande, ESMS per OG)
    "texte": ("1,5 OG et 3 ESMS par demande en moyenne, tout en texte", False, (1, 2), (1, 2, 3)),
    "excel": ("1 OG et 2 ESMS par demande, typé comme Excel le saisit : nombres, VRAI/FAUX booléens, dates",
              True, (1,), (2,)),
}


def generate_rows(n: int, rejets: float = 0.0, seed: int = 1,
                  shape: str = "texte") -> tuple[dict[str, list[dict[str, Cell]]], int]:
    """The rows of every sheet (balise → value, None = empty cell) and the number of demandes
    made invalid on purpose: an 8-digit FINESSJuridique, or no dateCommande, in turn.

    Shape « texte »: every value is text, as a template whose cells are formatted as text
    keeps it. Shape « excel »: amounts are numbers, VRAI/FAUX booleans and dateCommande a
    date, as Excel stores what is typed in a cell of the standard format; identifiers and
    phone numbers stay text (their columns are text in the template)."""
    _, typed, og_counts, esms_counts = SHAPES[shape]
    rng = random.Random(seed)
    rand, choice, randrange = rng.random, rng.choice, rng.randrange
    operators = _operator_codes()
    bad = _rejected_indexes(n, rejets) if rejets else set()
    rows: dict[str, list[dict[str, Cell]]] = {
        "Entête": [dict(HEADER)], "Demandes": [], "OG": [], "FINESS Géo": [], "Scénarios": [], "Pièces": []}
    demandes, ogs, geos, scenarios, pieces = (rows[k] for k in ("Demandes", "OG", "FINESS Géo", "Scénarios", "Pièces"))
    finess_serial = 1000
    days: list[date | str] = [date(2023, 1, 2) + timedelta(days=d) for d in range(700)]
    if not typed:
        days = [d.strftime("%d/%m/%Y") for d in days]

    def yes(value: bool) -> bool | str:
        return value if typed else ("VRAI" if value else "FAUX")

    def amount(cents: int) -> float | str:
        return cents / 100 if typed else f"{cents / 100:.2f}"

    versions = ["4.2", "5.0.1", "V2023.3", "12.4 build 118"]
    for i in range(n):
        ne = _numero_editeur(i)
        faulty = i in bad
        demande = {"numeroEditeur": ne, "dateCommande": None if faulty and i % 2 else choice(days),
                   "regimeTVA": "HT" if rand() < 0.2 else "TTC",
                   "montantSegurHT": amount(randrange(50_000, 2_000_000)), "isMandataire": yes(False)}
        if rand() < 0.1:
            name = choice(NAMES)
            demande.update(isMandataire=yes(True), nomMandataire=name, emailMandataire=_email(rng, name),
                           telephoneMandataire=_phone(rng))
        demandes.append(demande)
        if rand() < 0.05:
            pieces.append({"numeroEditeur": ne, "typeFichier": "BON_COMMANDE", "formatFichier": choice(["PNG", "JPG"])})
        for k in range(og_counts[0] if rand() < 0.5 else og_counts[-1]):
            finess_serial += 1
            fj = _finess(finess_serial)
            resp = choice(NAMES)
            og = {"numeroEditeur": ne, "FINESSJuridique": fj[:8] if faulty and i % 2 == 0 and k == 0 else fj,
                  "demandeCertificatServeur": yes(False), "nomResponsableOG": resp,
                  "emailResponsableOG": _email(rng, resp), "telephoneResponsableOG": _phone(rng)}
            if rand() < 0.6:
                statut = choice("SE")
                contrat_og = rand() < 0.7
                contrat_ed = rand() < 0.5 if statut == "E" else None
                admin = choice(NAMES)[:24]
                og.update(demandeCertificatServeur=yes(True), contractualisationOG=yes(contrat_og),
                          statutAdminTechnique=statut, nomAdminTechnique=admin, telAdminTechnique=_phone(rng),
                          emailAdminTechnique=_email(rng, admin), utiliteCertificat=choice(["DMP", "INS", "DMP, INS"]))
                if contrat_ed is not None:
                    og["contractualisationEditeur"] = yes(contrat_ed)
                if (statut == "S" and contrat_og) or (statut == "E" and contrat_ed):
                    og["numeroCarteCPX"] = "".join(choice(ALPHANUM) for _ in range(10))
            ogs.append(og)
            for _ in range(choice(esms_counts)):
                finess_serial += 1
                fg = _finess(finess_serial)
                geos.append({"numeroEditeur": ne, "FINESSJuridique": fj, "FINESSGeo": fg})
                maitre = rand() < 0.5
                scenario = {"numeroEditeur": ne, "FINESSGeo": fg, "ancienneVersion": choice(versions),
                            "isMaitreId": yes(maitre), "IsStockageId": yes(rand() < 0.3)}
                if rand() < 0.6:
                    scenario["operateurMessagerie"] = choice(operators)
                if rand() < 0.5:
                    scenario["profilMetier"] = "PDS"
                if maitre and rand() < 0.8:
                    scenario["IsRefSoins"] = yes(rand() < 0.5)
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
        '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'  # as Excel writes it
        '</styleSheet>'),
}


EXCEL_EPOCH = date(1899, 12, 30)  # day 0 of Excel's date serials (1900 system, after its 29/02/1900)


def write_xlsx(path: Path, rows: dict[str, list[dict[str, Cell]]]) -> Path:
    """An .xlsx as Excel saves one (shared strings; text in text-formatted cells, numbers,
    booleans, dates as date-formatted serials), written directly: xlsxwriter costs ~10 µs a
    cell, far too slow for the millions of cells of N = 100,000."""
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
                    f'<c r="{l}{r}" s="1" t="s"><v>{index(v, len(strings))}</v></c>' if type(v) is str
                    else f'<c r="{l}{r}" t="b"><v>{int(v)}</v></c>' if type(v) is bool
                    else f'<c r="{l}{r}" s="2"><v>{(v - EXCEL_EPOCH).days}</v></c>' if type(v) is date
                    else f'<c r="{l}{r}"><v>{v!r}</v></c>'
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


def generate(path: Path, n: int, rejets: float = 0.0, seed: int = 1, shape: str = "texte") -> int:
    """Write the synthetic workbook; return the number of demandes made invalid."""
    rows, bad = generate_rows(n, rejets, seed, shape)
    write_xlsx(Path(path), rows)
    return bad


def cached_workbook(n: int, rejets: float, seed: int, shape: str) -> tuple[Path, int, float | None]:
    """(path, demandes made invalid, generation seconds or None when cached)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"{FORMAT_ID}-{shape}-n{n}-r{rejets:g}-s{seed}.xlsx"
    meta = path.with_suffix(".json")
    if path.is_file() and meta.is_file():
        return path, json.loads(meta.read_text())["rejets"], None
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--generer", str(path), "--demandes", str(n), "--rejets", str(rejets),
         "--graine", str(seed), "--forme", shape], check=True, capture_output=True, text=True,
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


def _status_kib(pid: int | str, key: bytes) -> int:
    """A line of /proc/<pid>/status in KiB (`VmHWM:`…), 0 once the process has ended."""
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            status = fh.read()
    except OSError:
        return 0
    at = status.find(key)
    return int(status[at + len(key):status.index(b"kB", at)]) if at >= 0 else 0


def _second_process(parent: int | str = "self") -> int | None:
    """The pid of the schema check's second process among the children of `parent`, if started."""
    try:
        tasks = os.listdir(f"/proc/{parent}/task")
    except OSError:  # ended meanwhile
        return None
    for task in tasks:
        try:
            with open(f"/proc/{parent}/task/{task}/children", "rb") as fh:
                children = fh.read().split()
        except OSError:  # a thread that ended meanwhile
            continue
        for pid in children:
            try:
                with open(f"/proc/{int(pid)}/cmdline", "rb") as fh:
                    # not yet the second process: between fork and exec, a child shows its parent's memory
                    if b"converter.concurrency" in fh.read():
                        return int(pid)
            except OSError:  # ended meanwhile
                continue
    return None


class ChildrenPeak(threading.Thread):
    """The peak memory of the second process of `parent`: its ru_maxrss is no measure, Linux
    carries the parent's high-water mark over into a child it starts; its VmHWM is its own
    (exec gives it a new address space). Every 50 ms, the children of `parent` are listed until
    the second process is found, then its VmHWM is read, the highest it has been so far.

    Cheap, because it runs beside what it measures: the previous sampler listed every thread's
    children and read their status every 20 ms, and made `xl2segur convertir` 0.12 to 0.15 s
    slower (three pairs, docs/performance.md, treizième passe)."""

    def __init__(self, parent: int | str = "self"):
        super().__init__(daemon=True)
        self.parent, self.peak, self.done = parent, 0, threading.Event()

    def run(self) -> None:
        child = None
        while not self.done.wait(0.05):
            child = child or _second_process(self.parent)
            if child is not None:
                hwm = _status_kib(child, b"VmHWM:") * 1024
                if hwm == 0:  # ended: another may start (a new conversion)
                    child = None
                self.peak = max(self.peak, hwm)


def _command(script: Path | None = None) -> list[str]:
    """`xl2segur` as installed beside this Python (`python -m converter` in a bare checkout).
    A script that pip wrote before the entry point became `converter.launch:main` (an
    editable install made before, never reinstalled) skips the workbook's opening during the
    imports: it would time a command users no longer run. `python -m converter` runs the
    current entry point; `pip install -e .` rewrites the script."""
    script = script or Path(sys.executable).with_name("xl2segur")
    if script.is_file() and "converter.launch" in script.read_text(errors="replace"):
        return [str(script)]
    if script.is_file():
        print(f"attention : {script} date d'avant le point d'entrée actuel (converter.launch) ; "
              "mesuré avec python -m converter (réinstallez : pip install -e .)", file=sys.stderr)
    return [sys.executable, "-m", "converter"]


def measure_cli(path: Path) -> dict[str, object]:
    """The whole `xl2segur convertir` process as a user runs it: wall time from start to exit
    (Python's start-up and imports included), its peak memory (ru_maxrss, from wait4) plus the
    sampled peak of its second process, the lines it printed."""
    out = Path(tempfile.mkdtemp(prefix="xl2segur-bench-cli-"))
    try:
        started = time.perf_counter()
        # as installed by pip, with the bytecode of its modules cached (not so under PYTHONDONTWRITEBYTECODE)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        # a ledger of its own, on the local disk (--registre: WAL journal), so runs never refuse each other's
        process = subprocess.Popen([*_command(), "convertir", str(path), "-o", str(out), "--date-depot", "20240312",
                                    "--registre", str(out / "xl2segur.sqlite")],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        children = ChildrenPeak(process.pid)
        children.start()
        printed = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        cli_s = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        children.done.set()
        children.join()
        if process.returncode not in (0, 1):
            raise RuntimeError(f"xl2segur convertir a échoué (code {process.returncode}) :\n{printed.decode()}")
        return {"cli_s": round(cli_s, 3), "cli_cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
                "pic_rss_cli_mio": round(usage.ru_maxrss * 1024 / 2**20),
                "pic_rss_cli_controle_mio": round(children.peak / 2**20),
                "lignes_affichees": len(printed.decode().splitlines()), "code_retour_cli": process.returncode}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _cpu() -> float:
    """CPU seconds of this process and of its children that ended (the schema check's process)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def measure(path: Path, quiet: bool = True) -> dict[str, object]:
    from converter import api

    out = Path(tempfile.mkdtemp(prefix="xl2segur-bench-out-"))
    # a blank ledger of its own each time, beside the files (as versions before 3 kept it)
    registre = {"registre": out / "xl2segur.sqlite"} if "registre" in inspect.signature(api.convert).parameters else {}
    try:
        children = ChildrenPeak()
        children.start()
        started, cpu = time.perf_counter(), _cpu()
        bare_read(path)
        read_s, read_cpu = time.perf_counter() - started, _cpu() - cpu
        if quiet:  # (also runs against a version of xl2segur without progress display)
            started, cpu = time.perf_counter(), _cpu()
            outcome = api.convert(path, out, date(2024, 3, 12), **registre)
            convert_s, convert_cpu = time.perf_counter() - started, _cpu() - cpu
        else:
            from converter.progress import progress_line

            with progress_line(force=True) as progress:
                started, cpu = time.perf_counter(), _cpu()
                outcome = api.convert(path, out, date(2024, 3, 12), progress=progress, **registre)
                convert_s, convert_cpu = time.perf_counter() - started, _cpu() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
        children.done.set()
        children.join()
        helper = children.peak  # the second process that checks the files (converter/concurrency.py)
        return {
            "demandes": outcome.demandes, "acceptees": len(outcome.accepted), "rejetees": len(outcome.rejected),
            "lecture_s": round(read_s, 3), "conversion_s": round(convert_s, 3),
            "lecture_cpu_s": round(read_cpu, 3), "conversion_cpu_s": round(convert_cpu, 3),
            "rapport": round(convert_s / read_s, 2), "pic_rss_mio": round(peak / 2**20),
            "pic_rss_controle_mio": round(helper / 2**20),
            "fichiers_json": len(outcome.files),
            "classeur_erreurs": str(outcome.error_workbook) if outcome.error_workbook else None,
            "octets_ecrits": sum(p.stat().st_size for p in out.iterdir()),
        }
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _run_shape(args: argparse.Namespace, shape: str) -> dict[str, object]:
    """Generate (or find) the workbook of one shape; measure it `--repetitions` times: each time the
    bare read and api.convert in a fresh process, then the `xl2segur convertir` process."""
    path, bad, gen_s = cached_workbook(args.demandes, args.rejets, args.graine, shape)
    print(f"forme « {shape} » ({SHAPES[shape][0]})")
    print(f"classeur : {path} ({path.stat().st_size / 2**20:.1f} Mio, "
          + (f"généré en {gen_s:.1f} s" if gen_s is not None else "en cache") + f", {bad} demandes invalides)")
    runs = []
    for _ in range(max(1, args.repetitions)):
        # the bare read and the API in a process of their own, whose only child is the schema
        # check (the generator's memory stays out of the peak); then the command, as users run it
        child = subprocess.run([sys.executable, __file__, "--mesurer", str(path), "--demandes", str(args.demandes),
                                *(["--progression"] if args.progression else [])],
                               check=True, stdout=subprocess.PIPE, text=True)
        run = json.loads(child.stdout.strip().splitlines()[-1])
        if not args.sans_cli:
            run.update(measure_cli(path))
            run["rapport_cli"] = round(run["cli_s"] / run["lecture_s"], 2)
        runs.append(run)
        if args.repetitions > 1:
            print(f"  mesure {len(runs)} : lecture nue {run['lecture_s']:.2f} s, "
                  f"api.convert {run['conversion_s']:.2f} s (×{run['rapport']:.2f})"
                  + ("" if args.sans_cli else f", xl2segur convertir {run['cli_s']:.2f} s (×{run['rapport_cli']:.2f})"))
    durations = ["lecture_s", "conversion_s", "lecture_cpu_s", "conversion_cpu_s"] + (
        [] if args.sans_cli else ["cli_s", "cli_cpu_s"])
    peaks = ["pic_rss_mio", "pic_rss_controle_mio"] + ([] if args.sans_cli else ["pic_rss_cli_mio",
                                                                                 "pic_rss_cli_controle_mio"])
    ratios = {"rapport": "conversion_s"} | ({} if args.sans_cli else {"rapport_cli": "cli_s"})
    result = {**runs[-1], **{key: statistics.median(r[key] for r in runs) for key in durations},
              **{key: max(r[key] for r in runs) for key in peaks},
              **{key: round(statistics.median(r[took] / r["lecture_s"] for r in runs), 2) for key, took in ratios.items()},
              "forme": shape, "repetitions": len(runs), "rejets_injectes": bad,
              "meilleures": {key: min(r[key] for r in runs) for key in durations}}
    several = len(runs) > 1
    if several:
        print(f"médianes de {len(runs)} mesures (entre parenthèses : la meilleure ; rapports : médiane des "
              "rapports de chaque mesure ; pic mémoire : le plus haut) :")

    def fastest(key: str) -> str:
        return f" (meilleure {result['meilleures'][key]:.2f} s)" if several else ""

    print(f"N = {result['demandes']} demandes ({result['acceptees']} acceptées, {result['rejetees']} rejetées)")
    print(f"lecture nue (fastexcel → Polars)    : {result['lecture_s']:.2f} s{fastest('lecture_s')}")
    print(f"api.convert                         : {result['conversion_s']:.2f} s{fastest('conversion_s')}"
          f", ×{result['rapport']:.2f} la lecture nue")
    if not args.sans_cli:
        print(f"xl2segur convertir (tout le processus) : {result['cli_s']:.2f} s{fastest('cli_s')}"
              f", ×{result['rapport_cli']:.2f} la lecture nue ; {result['lignes_affichees']} lignes affichées")
    print(f"temps de calcul (les deux cœurs, second processus compris) : lecture nue {result['lecture_cpu_s']:.2f} s, "
          f"api.convert {result['conversion_cpu_s']:.2f} s"
          + ("" if args.sans_cli else f", xl2segur convertir {result['cli_cpu_s']:.2f} s (démarrage compris)"))
    print(f"pic mémoire api.convert (avec la lecture nue) : {result['pic_rss_mio']} Mio"
          f" (+ {result['pic_rss_controle_mio']} Mio pour le processus de contrôle du schéma)")
    if not args.sans_cli:
        print(f"pic mémoire xl2segur convertir : {result['pic_rss_cli_mio']} Mio"
              f" (+ {result['pic_rss_cli_controle_mio']} Mio pour le processus de contrôle du schéma)")
    print(f"fichiers écrits : {result['fichiers_json']} JSON"
          + (", 1 classeur d'erreurs" if result["classeur_erreurs"] else "")
          + f" ({result['octets_ecrits'] / 2**20:.1f} Mio)")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demandes", type=int, required=True, help="nombre de demandes (N)")
    parser.add_argument("--rejets", type=float, default=0.0, help="fraction de demandes invalides, ex. 0.01")
    parser.add_argument("--graine", type=int, default=1, help="graine du générateur")
    parser.add_argument("--forme", choices=[*SHAPES, "les-deux"], default="les-deux",
                        help="forme du classeur : " + " ; ".join(f"{k} = {v[0]}" for k, v in SHAPES.items()))
    parser.add_argument("--sans-cli", action="store_true", help="ne mesure pas le processus xl2segur convertir")
    parser.add_argument("--json", action="store_true", help="imprime aussi une ligne JSON par forme")
    parser.add_argument("--progression", action="store_true", help="affiche la progression de la conversion")
    parser.add_argument("--repetitions", type=int, default=1,
                        help="mesures successives (chacune dans un processus neuf) : la médiane de chaque "
                             "durée et des rapports est retenue, contre le bruit d'une machine partagée")
    parser.add_argument("--generer", type=Path, help=argparse.SUPPRESS)  # internal: child process
    parser.add_argument("--mesurer", type=Path, help=argparse.SUPPRESS)  # internal: child process
    args = parser.parse_args(argv)
    if args.generer:
        print(generate(args.generer, args.demandes, args.rejets, args.graine, args.forme))
        return 0
    if args.mesurer:
        print(json.dumps(measure(args.mesurer, quiet=not args.progression)))
        return 0
    failed = False
    for k, shape in enumerate(SHAPES if args.forme == "les-deux" else [args.forme]):
        if k:
            print()
        result = _run_shape(args, shape)
        if args.json:
            print(json.dumps(result))
        if result["rejetees"] != result["rejets_injectes"]:
            print(f"ATTENTION : {result['rejets_injectes']} demandes rendues invalides, {result['rejetees']} rejetées",
                  file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    _root = str(Path(__file__).resolve().parent.parent)
    if _root not in sys.path:  # a checkout without `pip install -e .`; PYTHONPATH still comes first
        sys.path.append(_root)
    sys.exit(main())
