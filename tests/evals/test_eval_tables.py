"""Eval sets from CSV and XLSX tables: English or Chinese headers, bad rows reported by their
row number, the rest imported (Python API and ``zhiku eval import``)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from zhiku.core.errors import InvalidInput
from zhiku.evals import importers, sets
from zhiku.evals.importers.table import read_csv, read_table, read_xlsx
from zhiku.service import Zhiku

ZH_CSV = ("问题,参考答案,预期来源,可回答,标签\n"
          "新员工有几天年假？,5 天|五天,leave.md,是,hr\n"
          ",没有问题的一行,,,\n"
          "远程办公政策？,,,否,\n"
          "坏的一行,x,,也许,\n")


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_chinese_csv_headers_and_bad_rows() -> None:
    found = read_csv(ZH_CSV.encode("utf-8-sig"))
    assert [q.question for q in found.questions] == ["新员工有几天年假？", "远程办公政策？"]
    first, second = found.questions
    assert first.reference_answers == ["5 天", "五天"] and first.expected_sources == {
        "leave.md": 1} and first.tags == ["hr"] and first.ext_id == "row-2"
    assert second.answerable is False
    assert [(e.row, e.error) for e in found.errors] == [
        (3, "the question is empty"), (5, "not a boolean: '也许'")]


def test_gbk_csv_and_english_headers() -> None:
    text = "id,question,reference_answer,expected_sources\nq1,年假几天,5天,leave.md|hr.md\n"
    found = read_csv(text.encode("gbk"))
    assert found.questions[0].ext_id == "q1"
    assert found.questions[0].expected_sources == {"leave.md": 1, "hr.md": 1}


def test_xlsx_with_bad_rows() -> None:
    data = xlsx([["编号", "问题", "答案", "来源"], [1, "年假几天", "5天", "leave.md"],
                 [2, None, "x", None], [1, "重复编号", "y", None]])
    found = read_xlsx(data)
    assert [q.ext_id for q in found.questions] == ["1"]
    assert [(e.row, e.error) for e in found.errors] == [
        (3, "the question is empty"), (4, "question id '1' appears twice")]


def test_unusable_tables() -> None:
    with pytest.raises(InvalidInput, match="question column"):
        read_csv(b"foo,bar\n1,2\n")
    with pytest.raises(InvalidInput, match="XLSX"):
        read_xlsx(b"not a zip")
    with pytest.raises(InvalidInput, match=r"\.csv"):
        read_table(b"", "set.txt")


def test_facade_import_keeps_good_rows(zk: Zhiku) -> None:
    made, found = zk.import_eval_table("zh", ZH_CSV.encode(), "zh.csv")
    assert made.size == 2 and len(found.errors) == 2
    assert [q.question for q in sets.questions(zk.evals, "zh")] == ["新员工有几天年假？",
                                                                    "远程办公政策？"]
    with pytest.raises(InvalidInput, match="row 2"):
        zk.import_eval_table("none", "问题,答案\n,x\n".encode(), "none.csv")


def test_importers_load_xlsx_all_or_nothing(tmp_path: Path) -> None:
    good = tmp_path / "good.xlsx"
    good.write_bytes(xlsx([["question", "answer"], ["q", "a"]]))
    assert importers.detect_format(good) == "xlsx"
    assert importers.load(good)[0].reference_answers == ["a"]
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx([["question", "answer"], [None, "x"], ["ok", "y"]]))
    with pytest.raises(InvalidInput, match="row 2"):
        importers.load(bad)
