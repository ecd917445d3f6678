#!/usr/bin/env python3
"""The operator grid's SQL at 100,000 applications (BENCHMARKS.md, "Operator grid").

Applies migrations/{sqlite,postgres} to a fresh database, inserts N applications (a quarter
in each status, one a minute, two companies, 997 company names), then times each query the
grid runs (server/src/db/admin_grid.rs: the counts per status, one page in a chosen order,
the CSV export's join) as the median of R runs.

    scripts/bench-grid-sql.py [--rows 100000] [--runs 21] [--postgres]

SQLite runs through Python's sqlite3 (the system library); PostgreSQL through psql on
127.0.0.1:5432 (database screens-b_grid_bench, created and dropped), timed by EXPLAIN ANALYZE's
execution time. The HTTP handler adds one bill/certificate/registration lookup per row shown
(server/tests/admin_grid.rs `bench_grid_100k_*` times the whole call).
"""

import argparse
import pathlib
import re
import sqlite3
import statistics
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
COLUMNS = (
    "a.id, a.serial, a.tax_id, a.app_type, a.status, a.target_id, a.company_name, "
    "a.company_phone, a.company_fax, a.responsible_person, a.responsible_phone, a.contact_name, "
    "a.contact_phone, a.contact_mobile, a.contact_email, a.customs_office, a.business_type, "
    "a.box_number, a.cert_kind, a.staff_code, a.staff_national_id, a.cert_name, a.reason, "
    "a.created_at, a.updated_at"
)
INSERT = (
    "INSERT INTO applications (serial, tax_id, app_type, status, company_name, company_phone, "
    "company_fax, responsible_person, responsible_phone, contact_name, contact_phone, "
    "contact_mobile, contact_email, customs_office, business_type, box_number, cert_kind, "
    "staff_code, staff_national_id, cert_name, reason, created_at, updated_at) "
    "SELECT 'SWB' || CAST(i AS TEXT), CASE WHEN i % 2 = 0 THEN '12345675' ELSE '04595257' END, "
    "'new', CASE i % 4 WHEN 0 THEN '10' WHEN 1 THEN '20' WHEN 2 THEN 'A0' ELSE 'A9' END, "
    "'公司' || CAST(i % 997 AS TEXT), '02-25505500', '', '王大明', '', '陳小華', '02-25505500', "
    "'0912345678', 'chen@example.com.tw', 'keelung', 'broker', 'B00051', 'individual', 'K1234', "
    "'A123456789', NULL, '', {base} + i * 60, {base} + i * 60 "
)


def queries(n, base):
    day = base + (n // 2) * 60
    newest = "ORDER BY a.created_at DESC, a.id DESC"
    page = lambda where, order, offset: (  # noqa: E731
        f"SELECT {COLUMNS} FROM applications a{where} {order} LIMIT 50 OFFSET {offset}"
    )
    return [
        ("counts per status, no filter",
         "SELECT a.status, COUNT(*) AS n FROM applications a GROUP BY a.status"),
        ("counts per status, one day",
         f"SELECT a.status, COUNT(*) AS n FROM applications a WHERE a.created_at >= {day} "
         f"AND a.created_at < {day + 86400} GROUP BY a.status"),
        ("page 1 of 2,000 (50 rows), newest first", page("", newest, 0)),
        ("page 1,000, newest first", page("", newest, 50 * 999)),
        ("page 2,000 (last), newest first", page("", newest, 50 * 1999)),
        ("status 20, page 1", page(" WHERE a.status = '20'", newest, 0)),
        ("status 20, page 500 (last)", page(" WHERE a.status = '20'", newest, 50 * 499)),
        ("one day (1,440 rows), page 1",
         page(f" WHERE a.created_at >= {day} AND a.created_at < {day + 86400}", newest, 0)),
        ("sorted by company name, page 1",
         page("", "ORDER BY a.company_name ASC, a.id ASC", 0)),
        ("sorted by serial, page 1", page("", "ORDER BY a.serial ASC, a.id ASC", 0)),
        ("serial search (q=)",
         f"SELECT {COLUMNS} FROM applications a WHERE (a.serial = 'SWB777' OR a.id IN "
         "(SELECT application_id FROM bills WHERE bill_no = 'SWB777') OR a.id IN "
         "(SELECT application_id FROM certificates WHERE serial_hex = 'swb777')) "
         f"{newest} LIMIT 50 OFFSET 0"),
        ("CSV export join, status 20 (25,000 rows)",
         "SELECT a.serial, a.created_at, a.tax_id, a.company_name, a.app_type, a.status, "
         "b.bill_no, b.amount, b.status AS bill_status, b.paid_at, c.serial_hex, "
         "c.status AS cert_status, c.not_after FROM applications a "
         "LEFT JOIN bills b ON b.application_id = a.id "
         "LEFT JOIN certificates c ON c.application_id = a.id AND c.cert_der IS NOT NULL "
         f"WHERE a.status = '20' {newest} LIMIT 100001"),
    ]


def sqlite_bench(n, runs):
    with tempfile.TemporaryDirectory() as d:
        db = sqlite3.connect(pathlib.Path(d) / "grid.db")
        for m in sorted((ROOT / "migrations/sqlite").glob("*.sql")):
            db.executescript(m.read_text())
        base = int(time.time()) - n * 60
        t = time.perf_counter()
        db.execute(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) "
            + INSERT.format(base=base) + "FROM s", (n,))
        db.commit()
        db.execute("ANALYZE")
        print(f"SQLite {sqlite3.sqlite_version}: {n} rows inserted in "
              f"{time.perf_counter() - t:.1f} s")
        rows = []
        for name, sql in queries(n, base):
            ms = []
            for _ in range(runs):
                t = time.perf_counter()
                got = db.execute(sql).fetchall()
                ms.append((time.perf_counter() - t) * 1000)
            rows.append((name, statistics.median(ms), len(got)))
        return rows


def psql(db, sql):
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1",
         "-qAt", "-c", sql], check=True, capture_output=True, text=True).stdout


def postgres_bench(n, runs):
    db = "screens-b_grid_bench"
    psql("postgres", f'DROP DATABASE IF EXISTS "{db}"')
    psql("postgres", f'CREATE DATABASE "{db}"')
    try:
        for m in sorted((ROOT / "migrations/postgres").glob("*.sql")):
            subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-q",
                            "-v", "ON_ERROR_STOP=1", "-f", str(m)], check=True,
                           capture_output=True)
        base = int(time.time()) - n * 60
        t = time.perf_counter()
        psql(db, INSERT.format(base=base) + f"FROM generate_series(1, {n}) AS s(i)")
        psql(db, "ANALYZE")
        version = psql(db, "SHOW server_version").strip()
        print(f"PostgreSQL {version}: {n} rows inserted in {time.perf_counter() - t:.1f} s")
        rows = []
        for name, sql in queries(n, base):
            ms = []
            for _ in range(runs):
                out = psql(db, f"EXPLAIN (ANALYZE, TIMING OFF) {sql}")
                ms.append(float(re.search(r"Execution Time: ([\d.]+) ms", out).group(1)))
            count = psql(db, f"SELECT COUNT(*) FROM ({sql}) q").strip()
            rows.append((name, statistics.median(ms), int(count)))
        return rows
    finally:
        psql("postgres", f'DROP DATABASE IF EXISTS "{db}"')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--postgres", action="store_true")
    a = ap.parse_args()
    rows = postgres_bench(a.rows, a.runs) if a.postgres else sqlite_bench(a.rows, a.runs)
    print(f"| query at {a.rows:,} applications | rows | median ms ({a.runs} runs) |")
    print("|---|---|---|")
    for name, ms, got in rows:
        print(f"| {name} | {got} | {ms:.2f} |")


if __name__ == "__main__":
    main()
