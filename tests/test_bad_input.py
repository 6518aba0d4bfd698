"""Bad input: every broken file fails alone with a clear error; the others are ingested;
nothing half-written is left; the CLI exits non-zero."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dbcheck import count, fulltext_rows, raw_database
from zhiku.cli.main import create_app
from zhiku.core.settings import Settings
from zhiku.service import Zhiku

KB = "intake"
GOOD_MD = "# Leave\n\nNew employees get fifteen days of annual leave.\n"
GOOD_TXT = "员工出差报销需要提交发票原件和审批单。".encode("gb18030")


def pdf_bytes(text: str) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(pdf_bytes("Salary bands for 2025."))))
    writer.encrypt(user_password="secret", owner_password="owner")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def damaged_docx() -> bytes:
    """A zip that claims to be a Word file but holds broken XML."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types oops")
        z.writestr("word/document.xml", "not xml at all")
    return buf.getvalue()


# file name -> (bytes, what the error message must say)
BAD: dict[str, tuple[bytes, str]] = {
    "archive.xyz": (b"some data", "unsupported file type '.xyz'"),
    "broken.pdf": (pdf_bytes("Quarterly numbers are up.")[:400], "corrupt or unreadable PDF"),
    "locked.pdf": (b"", "encrypted"),  # filled in by the fixture (needs pypdf)
    "empty.txt": (b"", "empty"),
    "photo.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
    "garbled.txt": (bytes(range(128, 256)) * 8, "encoding"),
    "blank.md": (b"\n   \n\t\n", "no text"),
    "damaged.docx": (damaged_docx(), "corrupt or unreadable"),
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "inbox"
    root.mkdir()
    (root / "a_good.md").write_text(GOOD_MD, encoding="utf-8")
    (root / "z_good.txt").write_bytes(GOOD_TXT)
    for name, (data, _) in BAD.items():
        (root / name).write_bytes(encrypted_pdf() if name == "locked.pdf" else data)
    return root


def assert_nothing_half_written(settings: Settings) -> None:
    with raw_database(settings) as db:
        searchable = count(db, "SELECT count(*) FROM chunks WHERE searchable = 1")
        assert fulltext_rows(db) == searchable
        assert count(db, "SELECT count(*) FROM embeddings") == searchable
        orphans = count(
            db,
            "SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.document_id "
            "WHERE d.status = 'error'",
        )
        assert orphans == 0
        states = {r[0] for r in db.conn.execute("SELECT status FROM documents")}
        assert states <= {"ready", "error"}


def test_each_bad_file_fails_alone_with_a_clear_error(zk: Zhiku, folder: Path) -> None:
    zk.create_kb(KB, embedder="hashing")
    report = zk.ingest(KB, [folder])
    by_name = {Path(f.source).name: f for f in report.files}
    assert set(by_name) == {"a_good.md", "z_good.txt", *BAD}
    assert by_name["a_good.md"].status == by_name["z_good.txt"].status == "added"
    for name, (_, expected) in BAD.items():
        result = by_name[name]
        assert result.status == "failed", name
        assert result.error and expected in result.error, (name, result.error)
        assert result.document_id is None and result.chunks == 0
    # the failures are remembered per document, with their errors, and hold no chunks
    failed = {Path(d.source).name: d for d in zk.documents(KB, "error")}
    assert set(failed) == set(BAD)
    assert all(d.error and d.chunk_count == 0 for d in failed.values())
    assert failed["photo.txt"].error == by_name["photo.txt"].error
    # the good files are fully searchable, including the GB18030 one
    assert zk.search(KB, "annual leave")[0].source == str(folder / "a_good.md")
    assert zk.search(KB, "报销需要发票")[0].source == str(folder / "z_good.txt")
    assert_nothing_half_written(zk.settings)
    stats = zk.stats(KB)[KB]
    assert (stats["ready"], stats["error"]) == (2, len(BAD))


def test_size_limit_from_the_environment(
    folder: Path, zhiku_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZHIKU_MAX_FILE_BYTES", "2000")
    big = folder / "big.md"
    big.write_text("# Big\n\n" + "All work and no play. " * 200, encoding="utf-8")
    with Zhiku(Settings()) as zk:  # reads ZHIKU_HOME and ZHIKU_MAX_FILE_BYTES
        assert zk.settings.db_path == zhiku_home / "zhiku.db"
        zk.create_kb(KB, embedder="hashing")
        report = zk.ingest(KB, [big, folder / "a_good.md"])
        big_result, good_result = report.files
        assert big_result.status == "failed"
        assert big_result.error is not None
        assert "over the 2,000-byte limit" in big_result.error
        assert f"{big.stat().st_size:,} bytes" in big_result.error
        assert good_result.status == "added"
        assert [d.source for d in zk.documents(KB, "ready")] == [str(folder / "a_good.md")]
        assert_nothing_half_written(zk.settings)


def test_a_broken_new_version_keeps_the_good_old_one(zk: Zhiku, tmp_path: Path) -> None:
    zk.create_kb(KB, embedder="hashing")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf_bytes("Revenue grew by twelve percent in the third quarter."))
    assert zk.ingest(KB, [path]).files[0].status == "added"
    good = zk.document(KB, str(path))
    chunks = zk.chunks(KB, good.id)
    path.write_bytes(pdf_bytes("Revenue fell.")[:300])  # truncated by a bad copy
    result = zk.ingest(KB, [path]).files[0]
    assert result.status == "failed" and "corrupt" in (result.error or "")
    assert zk.document(KB, str(path)) == good
    assert zk.chunks(KB, good.id) == chunks
    assert zk.search(KB, "revenue third quarter")[0].document_id == good.id
    # fixed later: the file is replaced as usual
    path.write_bytes(pdf_bytes("Revenue fell by two percent in the fourth quarter."))
    assert zk.ingest(KB, [path]).files[0].status == "updated"
    assert "fourth quarter" in zk.search(KB, "revenue fourth quarter")[0].text


def test_a_failed_file_is_retried_and_can_succeed(zk: Zhiku, tmp_path: Path) -> None:
    zk.create_kb(KB, embedder="hashing")
    path = tmp_path / "notes.txt"
    path.write_bytes(b"")
    assert zk.ingest(KB, [path]).files[0].status == "failed"
    # an unchanged failing file is tried again (and fails again), not skipped as "unchanged"
    assert zk.ingest(KB, [path]).files[0].status == "failed"
    assert len(zk.documents(KB, "error")) == 1
    path.write_text("Parking permits are issued by facilities.", encoding="utf-8")
    assert zk.ingest(KB, [path]).files[0].status == "added"
    assert zk.documents(KB, "error") == []
    assert [d.status for d in zk.documents(KB)] == ["ready"]


def test_cli_reports_failures_and_exits_non_zero(
    folder: Path, zhiku_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()
    app = create_app()
    created = runner.invoke(app, ["kb", "create", KB, "--embedder", "hashing"])
    assert created.exit_code == 0, created.output
    result = runner.invoke(app, ["ingest", "--kb", KB, "--json", str(folder)])
    assert result.exit_code == 1
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    statuses = {Path(f["source"]).name: f["status"] for f in summary["files"]}
    assert statuses == {"a_good.md": "added", "z_good.txt": "added",
                        **{name: "failed" for name in BAD}}
    errors = {Path(f["source"]).name: f["error"] for f in summary["files"]}
    assert "encrypted" in errors["locked.pdf"]
    # human output names each failed file and its reason
    human = runner.invoke(app, ["ingest", "--kb", KB, str(folder / "empty.txt"),
                                str(folder / "a_good.md")])
    assert human.exit_code == 1
    assert "empty.txt" in human.output and "file is empty" in human.output
    # only good files: exit code 0
    ok = runner.invoke(app, ["ingest", "--kb", KB, str(folder / "a_good.md")])
    assert ok.exit_code == 0, ok.output
    settings = Settings()  # what the CLI read: ZHIKU_HOME (and ZHIKU_DATABASE_URL, if set)
    if not settings.is_postgres:
        assert (zhiku_home / "zhiku.db").exists()  # the SQLite file lives under ZHIKU_HOME
    assert_nothing_half_written(settings)
