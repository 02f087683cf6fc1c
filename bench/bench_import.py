"""Survey import benchmark: prints measured figures.

    .venv/bin/python bench/bench_import.py --rows 100000

1. python-calamine reading the file alone (the floor: no import can be faster than reading);
2. our import (``qinghe.talents.importing``) into a fresh, migrated SQLite database with the
   reference data loaded, then the same file again (nothing to change), and the same on
   PostgreSQL when BENCH_PG_URL (or a postgres DATABASE_URL) is set: a temporary database is
   created on that server and dropped afterwards;
3. django-import-export importing the same rows into the same Talent table through a plain
   ModelResource (tablib reads the .xlsx with openpyxl), on a slice (10,000 rows by default,
   since it is slow), extrapolated linearly to the full file and labelled as such, with our
   import timed on the same slice for a like-for-like ratio.

Each database run is a separate process (Django settings are per process); timings exclude
interpreter start-up, migrations and the reference load. Repeated figures are medians.

The goal (issue 19): the import at most 8 times the read floor, on SQLite and on PostgreSQL,
measured in the same run. Both are printed as wall-clock ratios and as CPU ratios (the
importing process's CPU seconds, its parser process's included, against calamine's): on a
machine shared with other work the wall clock of a long run suffers more than that of a
short one, and PostgreSQL's own work is
in the server's processes, so the wall ratio on a quiet machine is the figure that counts and
the CPU ratio the one that a busy machine does not distort. Temporary PostgreSQL databases are
named BENCH_PG_PREFIX_<pid>_<n> (default prefix qinghe_bench).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from _shared import django_setup, pg_admin, pg_drop, pg_server_url, with_database  # noqa: E402

GOAL_RATIO = 8.0
PG_PREFIX = os.environ.get("BENCH_PG_PREFIX", "qinghe_bench")
SOURCE = "bench: 教育局毕业生就业调查"


# ---------------------------------------------------------------------------- worker side


def _django(database_url: str, media_root: str) -> None:
    django_setup(database_url)
    from django.conf import settings

    settings.MEDIA_ROOT = media_root


def _prepare_database() -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("load_reference", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115


def worker_qinghe(args: argparse.Namespace) -> dict[str, Any]:
    _django(args.database_url, args.media_root)
    _prepare_database()
    from qinghe.talents.importing.run import survey_import_path

    def cpu_seconds() -> float:
        """This process's CPU and that of its children reaped so far (the import's parser
        process, ``reader.ForkedParser``)."""
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime

    def timed_import() -> dict[str, Any]:
        started, cpu = time.perf_counter(), cpu_seconds()
        result = survey_import_path(args.file, source_name=SOURCE)
        return {
            "seconds": time.perf_counter() - started,
            "cpu": cpu_seconds() - cpu,
            "line": result.summary_line,
        }

    results: dict[str, Any] = {"first": timed_import(), "hash": _tables_hash()}
    if not args.skip_again:
        results["again"] = timed_import()
    return results


def _tables_hash() -> str:
    """A digest of the talent tables by value (no ids, timestamps or batch references)."""
    import hashlib

    from qinghe.talents.models import Destination, Education, PhoneNumber, Talent

    digest = hashlib.sha256()
    who = ("talent__id_index", "talent__name")
    queries = [
        Talent.objects.order_by("id_index", "name").values_list(
            "id_index", "name", "gender", "birth_date", "hukou_text", "town_id", "note",
            "status", "returned_home", "graduation_year", "native_evidence",
        ),
        PhoneNumber.objects.order_by(*who, "number_index").values_list(*who, "number_index", "is_current"),
        Education.objects.order_by(*who, "university_name", "graduation_year", "level").values_list(
            *who, "university_name", "major_name", "level", "enrolment_year", "graduation_year"
        ),
        Destination.objects.order_by(*who, "kind", "employer", "year").values_list(
            *who, "kind", "employer", "region_text", "area", "year"
        ),
    ]  # fmt: skip
    for query in queries:
        for row in query.iterator(chunk_size=5000):
            digest.update(repr(row).encode())
    return digest.hexdigest()


def worker_prepare(args: argparse.Namespace) -> dict[str, Any]:
    _django(args.database_url, args.media_root)
    _prepare_database()
    return {}


def worker_import_once(args: argparse.Namespace) -> dict[str, Any]:
    _django(args.database_url, args.media_root)
    from qinghe.talents.importing.run import survey_import_path

    started = time.perf_counter()
    result = survey_import_path(args.file, source_name=SOURCE)
    return {"seconds": time.perf_counter() - started, "line": result.summary_line}


def worker_inspect(args: argparse.Namespace) -> dict[str, Any]:
    _django(args.database_url, args.media_root)
    from qinghe.talents.models import ImportBatch

    batches = list(ImportBatch.objects.order_by("id").values_list("state", "rows_done"))
    return {"hash": _tables_hash(), "batches": batches}


def kill_and_resume(
    file: Path, url: str, media: str, *, kill_after: float, clean_hash: str, database: str
) -> None:
    """Starts an import into the empty database ``url``, kills it (SIGKILL) part-way, runs it
    again, and compares the tables with those of the clean run on the same kind of database."""
    run_worker("prepare", file, url, media)
    command = _worker_command("import_once", file, url, media)
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(kill_after)
    process.kill()
    process.wait()
    state = run_worker("inspect", file, url, media)["batches"]
    rerun = run_worker("import_once", file, url, media)
    after = run_worker("inspect", file, url, media)
    killed = (
        f"{state[0][1]:,} rows committed, state {state[0][0]}" if state else "nothing committed"
    )
    same = "identical" if after["hash"] == clean_hash else "DIFFERENT"
    label = f"kill -9 after {kill_after:.0f} s, then run again, {database}"
    print(f"{label:<50} {rerun['seconds']:7.2f} s   at the kill: {killed}")
    print(f"{'':<50}           rerun: {rerun['line']}; tables {same} to the clean run's")


def worker_import_export(args: argparse.Namespace) -> dict[str, Any]:
    """A plain django-import-export resource over the same Talent table: the columns mapped
    by name, de-duplication on the ID number's blind index (the only look-up key an
    encrypted column allows), everything else as the library does it by default."""
    _django(args.database_url, args.media_root)
    _prepare_database()
    import tablib
    from import_export import fields, resources

    from qinghe.talents.identity import clean_text, id_index
    from qinghe.talents.models import Talent

    class TalentResource(resources.ModelResource):
        name = fields.Field(attribute="name", column_name="学生姓名")
        gender = fields.Field(attribute="gender", column_name="性别")
        id_number = fields.Field(attribute="id_number", column_name="身份证号码")
        hukou_text = fields.Field(attribute="hukou_text", column_name="户口所在地")
        note = fields.Field(attribute="note", column_name="备注")
        id_index = fields.Field(attribute="id_index", column_name="id_index")

        class Meta:
            model = Talent
            fields = ("name", "gender", "id_number", "hukou_text", "note", "id_index")
            import_id_fields = ("id_index",)

        def before_import_row(self, row: Any, **kwargs: Any) -> None:
            for key in list(row.keys()):
                row[key] = clean_text(row[key])
            row["性别"] = {"男": "M", "女": "F"}.get(row["性别"], "")
            row["id_index"] = id_index(row["身份证号码"]) if row["身份证号码"] else None

    started = time.perf_counter()
    with open(args.file, "rb") as handle:
        dataset = tablib.Dataset().load(handle, format="xlsx")
    dataset.append_col([None] * len(dataset), header="id_index")
    result = TalentResource().import_data(dataset, dry_run=False, raise_errors=False)
    seconds = time.perf_counter() - started
    totals = dict(result.totals)
    return {"seconds": seconds, "rows": len(dataset), "totals": totals}


# ---------------------------------------------------------------------------- orchestration


def _worker_command(
    kind: str, file: Path, database_url: str, media_root: str, *extra: str
) -> list[str]:
    return [
        sys.executable,
        __file__,
        "--worker",
        kind,
        "--file",
        str(file),
        "--database-url",
        database_url,
        "--media-root",
        media_root,
        *extra,
    ]


def run_worker(
    kind: str, file: Path, database_url: str, media_root: str, *extra: str
) -> dict[str, Any]:
    command = _worker_command(kind, file, database_url, media_root, *extra)
    completed = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{kind} worker failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def calamine_floor(file: Path, repeat: int) -> tuple[float, float, list[float]]:
    """(median wall seconds, median CPU seconds, the wall seconds of each run)."""
    import python_calamine

    times, cpus = [], []
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        workbook = python_calamine.CalamineWorkbook.from_path(str(file))
        sheet = workbook.get_sheet_by_index(0)
        sum(1 for _ in sheet.iter_rows())
        times.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(times), statistics.median(cpus), times


def make_file(rows: int, directory: Path) -> Path:
    from make_survey import generate

    path = directory / f"survey-{rows}.xlsx"
    if not path.exists():
        started = time.perf_counter()
        stats = generate(rows, path)
        print(
            f"generated {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
            f"{stats['rows']:,} rows ({stats['spoiled']:,} with mistakes, {stats['repeated']:,} repeated "
            f"people) in {time.perf_counter() - started:.1f} s"
        )
    return path


def make_slice(source: Path, rows: int, directory: Path) -> Path:
    """The first ``rows`` data rows of ``source`` under a plain header (no title row, which
    tablib would take for the header)."""
    import python_calamine
    import xlsxwriter

    path = directory / f"{source.stem}-slice-{rows}.xlsx"
    sheet = python_calamine.CalamineWorkbook.from_path(str(source)).get_sheet_by_index(0)
    iterator = sheet.iter_rows()
    next(iterator)  # title
    header = [str(cell).strip() for cell in next(iterator)]
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    out = workbook.add_worksheet()
    for col, name in enumerate(header):
        out.write_string(0, col, name)
    for line, cells in enumerate(iterator, start=1):
        if line > rows:
            break
        for col, value in enumerate(cells):
            if isinstance(value, float):
                out.write_number(line, col, value)
            else:
                out.write_string(line, col, str(value))
    workbook.close()
    return path


def qinghe_on_postgres(file: Path, media_root: str, repeat: int) -> list[dict[str, Any]] | str:
    """``repeat`` runs, each in a temporary database of its own."""
    server = pg_server_url()
    if server is None:
        return "postgresql: skipped (set BENCH_PG_URL)"
    runs = []
    for i in range(repeat):
        name = f"{PG_PREFIX}_{os.getpid()}_{i}"
        try:
            pg_admin(server, f'CREATE DATABASE "{name}"')
        except Exception as exc:  # noqa: BLE001
            return f"postgresql: skipped (cannot create a temporary database on BENCH_PG_URL: {exc.__class__.__name__})"
        try:
            extra = ("--skip-again",) if i else ()
            runs.append(run_worker("qinghe", file, with_database(server, name), media_root, *extra))
        finally:
            pg_drop(server, name)
    return runs


def pg_kill_and_resume(file: Path, media_root: str, *, kill_after: float, clean_hash: str) -> None:
    """``kill_and_resume`` in a temporary database on the PostgreSQL server."""
    server = pg_server_url()
    assert server is not None
    name = f"{PG_PREFIX}_{os.getpid()}_killed"
    pg_admin(server, f'CREATE DATABASE "{name}"')
    try:
        kill_and_resume(
            file,
            with_database(server, name),
            media_root,
            kill_after=kill_after,
            clean_hash=clean_hash,
            database="PostgreSQL",
        )
    finally:
        pg_drop(server, name)


def runs_label(seconds: list[float]) -> str:
    if len(seconds) == 1:
        return "1 run"
    return f"median of {len(seconds)} ({', '.join(f'{s:.2f}' for s in seconds)})"


WORKERS = {
    "qinghe": worker_qinghe,
    "prepare": worker_prepare,
    "import_once": worker_import_once,
    "inspect": worker_inspect,
    "import_export": worker_import_export,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--slice", type=int, default=10_000, help="rows for django-import-export")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of our import per database (medians)"
    )
    parser.add_argument("--no-slice", action="store_true", help="skip django-import-export")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench")
    parser.add_argument("--no-kill", action="store_true", help="skip the kill-and-resume run")
    parser.add_argument(
        "--worker",
        choices=["qinghe", "prepare", "import_once", "inspect", "import_export"],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--media-root", help=argparse.SUPPRESS)
    parser.add_argument("--skip-again", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        result = WORKERS[args.worker](args)
        print(json.dumps(result, ensure_ascii=False))
        return 0

    args.data_dir.mkdir(parents=True, exist_ok=True)
    file = make_file(args.rows, args.data_dir)
    size_mb = file.stat().st_size / 1024 / 1024
    print(f"survey file: {file.name}, {args.rows:,} rows, {size_mb:.1f} MB")
    print(
        f"machine: {os.cpu_count()} CPUs, load average {_load()} (other work on the machine slows every figure)"
    )

    floor, floor_cpu, floor_runs = calamine_floor(file, repeat=3)
    floor_label = ", ".join(f"{t:.2f}" for t in floor_runs)
    print(
        f"{'python-calamine read alone (floor)':<50} {floor:7.2f} s   median of 3 ({floor_label}); "
        f"CPU {floor_cpu:.2f} s"
    )

    # database -> (wall median, CPU median)
    measured: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="qinghe-bench-") as tmp:
        sqlite_runs = [
            run_worker(
                "qinghe",
                file,
                f"sqlite:///{tmp}/bench-{i}.sqlite3",
                f"{tmp}/media-{i}",
                *(("--skip-again",) if i else ()),
            )
            for i in range(args.repeat)
        ]
        measured["SQLite"] = _report("SQLite", sqlite_runs)
        if any(run["hash"] != sqlite_runs[0]["hash"] for run in sqlite_runs):
            print("SQLite runs ended with DIFFERENT tables")
        print(f"{'':<50} load average {_load()}")
        if not args.no_kill:
            kill_and_resume(
                file,
                f"sqlite:///{tmp}/killed.sqlite3",
                f"{tmp}/media-k",
                kill_after=max(measured["SQLite"][0] * 0.5, 2.0),
                clean_hash=sqlite_runs[0]["hash"],
                database="SQLite",
            )

        postgres = qinghe_on_postgres(file, f"{tmp}/media-pg", args.repeat)
        if isinstance(postgres, str):
            print(postgres)
        else:
            measured["PostgreSQL"] = _report("PostgreSQL", postgres)
            if any(run["hash"] != postgres[0]["hash"] for run in postgres):
                print("PostgreSQL runs ended with DIFFERENT tables")
            print(f"{'':<50} load average {_load()}")
            if not args.no_kill:
                pg_kill_and_resume(
                    file,
                    f"{tmp}/media-pg-k",
                    kill_after=max(measured["PostgreSQL"][0] * 0.5, 2.0),
                    clean_hash=postgres[0]["hash"],
                )

        iex: dict[str, Any] | None = None
        if not args.no_slice:
            slice_rows = min(args.slice, args.rows)
            sliced = make_slice(file, slice_rows, Path(tmp))
            ours_slice = run_worker(
                "qinghe", sliced, f"sqlite:///{tmp}/slice.sqlite3", f"{tmp}/media-s", "--skip-again"
            )["first"]
            iex = run_worker(
                "import_export", sliced, f"sqlite:///{tmp}/iex.sqlite3", f"{tmp}/media-x"
            )
            scale = args.rows / slice_rows
            print(
                f"{f'qinghe import, SQLite, {slice_rows:,}-row slice':<50} {ours_slice['seconds']:7.2f} s   {ours_slice['line']}"
            )
            print(
                f"{f'django-import-export, SQLite, {slice_rows:,}-row slice':<50} {iex['seconds']:7.2f} s   "
                f"new={iex['totals'].get('new', 0)} update={iex['totals'].get('update', 0)} "
                f"skip={iex['totals'].get('skip', 0)} error={iex['totals'].get('error', 0)} "
                f"invalid={iex['totals'].get('invalid', 0)}"
            )
            if scale != 1:
                print(
                    f"{f'django-import-export, {args.rows:,} rows (extrapolated)':<50} {iex['seconds'] * scale:7.2f} s   x{scale:g} of the slice, not measured"
                )

    print(f"machine: load average {_load()} at the end")
    print()
    print(
        f"{'ratio to the calamine floor, ' + f'{args.rows:,} rows':<42} {'wall':>7} {'CPU':>7}   goal"
    )
    verdicts = []
    for database, (wall, cpu) in measured.items():
        wall_ratio, cpu_ratio = wall / floor, cpu / floor_cpu
        print(
            f"{'qinghe import, ' + database:<42} {wall_ratio:6.1f}x {cpu_ratio:6.1f}x   "
            f"<= {GOAL_RATIO:g}x: wall {'met' if wall_ratio <= GOAL_RATIO else 'MISSED'}, "
            f"CPU {'met' if cpu_ratio <= GOAL_RATIO else 'MISSED'}"
        )
        verdicts.append(f"{database} {wall_ratio:.1f}x wall / {cpu_ratio:.1f}x CPU")
    if iex is not None:
        print(
            f"ratio django-import-export / qinghe (same slice, SQLite)  {iex['seconds'] / ours_slice['seconds']:6.1f}x"
        )
        if "SQLite" in measured:
            print(
                f"ratio django-import-export extrapolated / qinghe full file {iex['seconds'] * scale / measured['SQLite'][0]:6.1f}x"
            )
    print(
        f"goal: {args.rows:,} rows in at most {GOAL_RATIO:g}x the read floor, same run: "
        + ", ".join(verdicts)
    )
    return 0


def _load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def _report(database: str, runs: list[dict[str, Any]]) -> tuple[float, float]:
    """Prints the import's figures on one database; returns the medians (wall, CPU)."""
    firsts = [run["first"]["seconds"] for run in runs]
    cpus = [run["first"]["cpu"] for run in runs]
    wall, cpu = statistics.median(firsts), statistics.median(cpus)
    print(
        f"{'qinghe import, ' + database:<50} {wall:7.2f} s   {runs_label(firsts)}; "
        f"CPU {cpu:.2f} s (median; {', '.join(f'{c:.2f}' for c in cpus)}): {runs[0]['first']['line']}"
    )
    again = runs[0].get("again")
    if again:
        print(
            f"{'qinghe same file again, ' + database:<50} {again['seconds']:7.2f} s   1 run; "
            f"CPU {again['cpu']:.2f} s: {again['line']}"
        )
    return wall, cpu


if __name__ == "__main__":
    sys.exit(main())
