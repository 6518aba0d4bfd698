"""Parsers against real files generated with the real libraries."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from zhiku.core.errors import MissingDependency, ParseError, UnsupportedFormat
from zhiku.ingest.blocks import BlockKind, ParsedDocument
from zhiku.ingest.parsers import default_registry, ocr
from zhiku.ingest.parsers.builtin import all_parsers
from zhiku.ingest.parsers.registry import ParseOptions

OPTS = ParseOptions()
REGISTRY = default_registry()
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
HOTPOT = Path(__file__).resolve().parents[3] / "shared/data/hotpotqa500/dev_subsampled.jsonl"
needs_ocr = pytest.mark.skipif(not ocr.available(), reason="OCR extra not installed")


def parse(data: bytes, name: str, options: ParseOptions = OPTS) -> ParsedDocument:
    return REGISTRY.parse(data, filename=name, options=options)


def texts(doc: ParsedDocument, kind: BlockKind | None = None) -> list[str]:
    return [b.text for b in doc.blocks if kind is None or b.kind == kind]


def text_image(lines: list[str], size: tuple[int, int] = (1000, 320)) -> bytes:
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), 48) if FONT.exists() else ImageFont.load_default(48)
    for i, line in enumerate(lines):
        draw.text((40, 40 + i * 90), line, fill="black", font=font)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def fpdf_bytes(pages: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def test_registry_covers_every_extension() -> None:
    exts = set(REGISTRY.extensions)
    assert {"txt", "md", "html", "pdf", "docx", "xlsx", "csv", "pptx", "json", "png"} <= exts
    assert all(p.extensions for p in all_parsers())


def test_text_paragraphs_and_chinese_encodings() -> None:
    doc = parse("第一段。\n还是第一段。\n\n第二段：数据库。\n".encode("gb18030"), "a.txt")
    assert texts(doc) == ["第一段。\n还是第一段。", "第二段：数据库。"]
    assert doc.meta["encoding"] == "gb18030"
    big5 = parse("這是一個繁體中文的測試文件，我們說國語。".encode("big5"), "b.txt")
    assert texts(big5) == ["這是一個繁體中文的測試文件，我們說國語。"]


def test_binary_empty_and_unsupported_are_rejected() -> None:
    with pytest.raises(ParseError, match="binary"):
        parse(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10, "image.txt")
    with pytest.raises(ParseError, match="empty"):
        parse(b"", "a.txt")
    with pytest.raises(ParseError, match="no text"):
        parse(b"\n\n  \n", "blank.md")
    with pytest.raises(UnsupportedFormat):
        parse(b"data", "archive.xyz")


def test_markdown_structure() -> None:
    md = """# Handbook

Intro paragraph.

## Leave

- Annual leave is 15 days
- Sick leave is paid

```python
print("hi")
```

| Plan | Price |
|------|-------|
| Basic | 10 |
| Pro | 30 |
"""
    doc = parse(md.encode(), "h.md")
    assert doc.title == "Handbook"
    heads = [(b.text, b.level) for b in doc.blocks if b.kind == BlockKind.HEADING]
    assert heads == [("Handbook", 1), ("Leave", 2)]
    assert texts(doc, BlockKind.LIST_ITEM) == ["Annual leave is 15 days", "Sick leave is paid"]
    assert texts(doc, BlockKind.CODE) == ['print("hi")']
    assert texts(doc, BlockKind.TABLE_ROW) == ["Plan: Basic; Price: 10", "Plan: Pro; Price: 30"]
    assert texts(doc, BlockKind.PARAGRAPH) == ["Intro paragraph."]


def test_html_structure_drops_chrome() -> None:
    page = """<html><head><title>Policies</title><style>p{}</style></head><body>
<nav>Home | About</nav><h1>Travel</h1><p>Book <b>economy</b> class.</p>
<ul><li>Receipts required</li></ul><script>var x = 1;</script>
<table><tr><th>City</th><th>Per diem</th></tr><tr><td>北京</td><td>500</td></tr></table>
<footer>Copyright</footer></body></html>"""
    doc = parse(page.encode("gb18030"), "p.html")
    assert doc.title == "Policies"
    assert [(b.kind, b.text) for b in doc.blocks] == [
        (BlockKind.HEADING, "Travel"),
        (BlockKind.PARAGRAPH, "Book economy class."),
        (BlockKind.LIST_ITEM, "Receipts required"),
        (BlockKind.TABLE_ROW, "City: 北京; Per diem: 500"),
    ]


def test_csv_faq_detection_with_chinese_headers() -> None:
    data = (
        "问题,答案,分类\n如何重置密码？,在设置页点击重置。,账户\n,,\n"
        "发票多久开出？,三个工作日内。,财务\n"
    )
    doc = parse(data.encode("gb18030"), "faq.csv")
    assert [(b.kind, b.text, b.answer) for b in doc.blocks] == [
        (BlockKind.FAQ, "如何重置密码？", "在设置页点击重置。"),
        (BlockKind.FAQ, "发票多久开出？", "三个工作日内。"),
    ]
    assert doc.blocks[0].meta == {"分类": "账户"}


def test_tsv_rows_keep_header() -> None:
    doc = parse(b"name\tcity\nAda\tLondon\nLin\tShanghai\n", "p.tsv")
    assert texts(doc) == ["name: Ada; city: London", "name: Lin; city: Shanghai"]


def test_xlsx_rows_keep_header_per_sheet(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Staff"
    ws.append(["Name", "Department", "Ext"])
    ws.append(["Alice", "Finance", 1201])
    ws.append([None, None, None])
    ws.append(["Bob", "IT", 1305])
    faq = wb.create_sheet("FAQ")
    faq.append(["Question", "Answer"])
    faq.append(["Where is the office?", "Building 3"])
    path = tmp_path / "staff.xlsx"
    wb.save(path)
    doc = parse(path.read_bytes(), path.name)
    rows = [(b.section, b.text) for b in doc.blocks if b.kind == BlockKind.TABLE_ROW]
    assert rows == [
        ("Staff", "Name: Alice; Department: Finance; Ext: 1201"),
        ("Staff", "Name: Bob; Department: IT; Ext: 1305"),
    ]
    faqs = [(b.section, b.text, b.answer) for b in doc.blocks if b.kind == BlockKind.FAQ]
    assert faqs == [("FAQ", "Where is the office?", "Building 3")]


def test_corrupt_office_files_rejected() -> None:
    for name in ("bad.docx", "bad.xlsx", "bad.pptx"):
        with pytest.raises(ParseError, match="corrupt"):
            parse(b"PK\x03\x04 definitely not a zip archive", name)


def test_docx_in_document_order(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading("员工手册", level=0)
    d.add_heading("Leave", level=1)
    d.add_paragraph("Employees get 15 days.")
    d.add_paragraph("Carry over allowed", style="List Bullet")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Grade", "Days"
    table.cell(1, 0).text, table.cell(1, 1).text = "Senior", "20"
    d.add_heading("Expenses", level=2)
    path = tmp_path / "h.docx"
    d.save(str(path))
    doc = parse(path.read_bytes(), path.name)
    assert doc.title == "员工手册"
    assert [(b.kind, b.text, b.level) for b in doc.blocks] == [
        (BlockKind.HEADING, "员工手册", 1),
        (BlockKind.HEADING, "Leave", 1),
        (BlockKind.PARAGRAPH, "Employees get 15 days.", 0),
        (BlockKind.LIST_ITEM, "Carry over allowed", 0),
        (BlockKind.TABLE_ROW, "Grade: Senior; Days: 20", 0),
        (BlockKind.HEADING, "Expenses", 2),
    ]


def test_pptx_slides_tables_and_notes(tmp_path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    assert slide.shapes.title is not None
    slide.shapes.title.text = "Q3 Results"
    body = slide.placeholders[1].text_frame
    body.text = "Revenue grew 12%"
    sub = body.add_paragraph()
    sub.text, sub.level = "Driven by APAC", 1
    slide.notes_slide.notes_text_frame.text = "Mention the new office."
    slide2 = prs.slides.add_slide(prs.slide_layouts[5])
    assert slide2.shapes.title is not None
    slide2.shapes.title.text = "Regions"
    shape = slide2.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(4), Inches(1))
    tbl = shape.table
    tbl.cell(0, 0).text, tbl.cell(0, 1).text = "Region", "Sales"
    tbl.cell(1, 0).text, tbl.cell(1, 1).text = "APAC", "40"
    path = tmp_path / "deck.pptx"
    prs.save(str(path))
    doc = parse(path.read_bytes(), path.name)
    assert doc.pages == 2
    assert [(b.kind, b.text, b.page) for b in doc.blocks] == [
        (BlockKind.HEADING, "Q3 Results", 1),
        (BlockKind.PARAGRAPH, "Revenue grew 12%", 1),
        (BlockKind.LIST_ITEM, "Driven by APAC", 1),
        (BlockKind.PARAGRAPH, "Mention the new office.", 1),
        (BlockKind.HEADING, "Regions", 2),
        (BlockKind.TABLE_ROW, "Region: APAC; Sales: 40", 2),
    ]
    assert doc.blocks[3].meta == {"notes": "1"}


def test_pptx_follows_the_slide_list_groups_and_core_title(tmp_path: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    prs = Presentation()
    prs.core_properties.title = "季度汇报"
    first = prs.slides.add_slide(prs.slide_layouts[5])
    assert first.shapes.title is not None
    first.shapes.title.text = "第一页"
    second = prs.slides.add_slide(prs.slide_layouts[6])
    group = second.shapes.add_group_shape()
    box = group.shapes.add_textbox(Inches(1), Inches(1), Inches(3), Inches(1))
    box.text_frame.text = "分组里的文字 [/] {x}"
    ids = prs.slides._sldIdLst  # reorder the slide list the way an editor does
    ids.insert(0, ids[-1])
    path = tmp_path / "deck.pptx"
    prs.save(str(path))
    doc = parse(path.read_bytes(), path.name)
    assert doc.title == "季度汇报" and doc.pages == 2
    assert [(b.kind, b.text, b.page) for b in doc.blocks] == [
        (BlockKind.PARAGRAPH, "分组里的文字 [/] {x}", 1),
        (BlockKind.HEADING, "第一页", 2),
    ]


def test_pptx_with_a_broken_part_is_a_parse_error(tmp_path: Path) -> None:
    import io
    import zipfile

    from pptx import Presentation

    prs = Presentation()
    prs.slides.add_slide(prs.slide_layouts[1])
    buf = io.BytesIO()
    prs.save(buf)
    broken = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, \
            zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "ppt/slides/slide1.xml":
                data = b"<p:sld xmlns:p='x'><unclosed>"
            dst.writestr(item, data)
    with pytest.raises(ParseError, match="corrupt"):
        parse(broken.getvalue(), "broken.pptx")


def test_json_and_jsonl_flattening() -> None:
    data = {"company": {"name": "Acme", "staff": 40}, "offices": ["Shanghai", "Berlin"]}
    doc = parse(json.dumps(data, ensure_ascii=False).encode(), "c.json")
    assert texts(doc) == [
        "company.name: Acme\ncompany.staff: 40",
        "offices.0: Shanghai\noffices.1: Berlin",
    ]
    lines = b'{"q": "Hours?", "a": {"text": "9-5"}}\n\n{"q": "Wifi?", "tags": [true, null]}\n'
    assert texts(parse(lines, "f.jsonl")) == ["q: Hours?\na.text: 9-5", "q: Wifi?\ntags.0: true"]


def test_invalid_json_names_the_line() -> None:
    with pytest.raises(ParseError, match="line 3"):
        parse(b'{"a": 1}\n{"b": 2}\n{"c": \n', "x.jsonl")
    with pytest.raises(ParseError, match="line 2"):
        parse(b'{"a": 1,\n "b": }', "x.json")


@pytest.mark.skipif(not HOTPOT.exists(), reason="shared data not present")
def test_real_hotpotqa_jsonl(tmp_path: Path) -> None:
    with HOTPOT.open("rb") as f:
        head = b"".join(f.readline() for _ in range(3))
    path = tmp_path / "hotpot.jsonl"
    path.write_bytes(head)
    doc = parse(path.read_bytes(), path.name)
    first = json.loads(head.splitlines()[0])
    assert len(doc.blocks) == 3
    assert f"question_text: {first['question_text']}" in doc.blocks[0].text
    assert "contexts.0.paragraph_text: " in doc.blocks[0].text


def test_pdf_pages_and_paragraphs() -> None:
    data = fpdf_bytes(["Refund policy.\n\nRefunds are issued within 14 days.", "Page two text."])
    doc = parse(data, "p.pdf")
    assert doc.pages == 2
    assert [(b.text, b.page) for b in doc.blocks] == [
        ("Refund policy.", 1),
        ("Refunds are issued within 14 days.", 1),
        ("Page two text.", 2),
    ]


def test_pdf_chinese_text_layer() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.setFont("STSong-Light", 14)
    c.drawString(72, 720, "知识库支持中文检索。")
    c.showPage()
    c.save()
    doc = parse(buf.getvalue(), "zh.pdf")
    assert texts(doc) == ["知识库支持中文检索。"]
    assert doc.title is None


def test_pdf_encrypted_and_corrupt() -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(fpdf_bytes(["Secret plans."]))))
    writer.encrypt(user_password="pw", owner_password="owner")
    buf = io.BytesIO()
    writer.write(buf)
    with pytest.raises(ParseError, match="PDF is encrypted"):
        parse(buf.getvalue(), "secret.pdf")
    good = fpdf_bytes(["Some text here."])
    with pytest.raises(ParseError, match="corrupt or unreadable PDF"):
        parse(good[: len(good) // 3], "broken.pdf")


def image_pdf(png: bytes) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(png), x=10, y=10, w=190)
    return bytes(pdf.output())


def test_image_only_pdf_without_ocr_explains() -> None:
    data = image_pdf(text_image(["Scanned page"]))
    with pytest.raises(ParseError, match="no text layer"):
        parse(data, "scan.pdf", ParseOptions(ocr=False))


@needs_ocr
def test_image_only_pdf_is_ocred() -> None:
    data = image_pdf(text_image(["Quarterly revenue report", "Total 4200 dollars"]))
    doc = parse(data, "scan.pdf")
    joined = " ".join(texts(doc)).lower()
    assert "quarterly revenue report" in joined
    assert "4200" in joined
    assert all(b.page == 1 and b.meta.get("ocr") == "1" for b in doc.blocks)


@needs_ocr
def test_png_is_ocred() -> None:
    doc = parse(text_image(["Invoice number 7731", "Payment due Friday"]), "scan.png")
    words = re.findall(r"\w+", " ".join(texts(doc)).lower())
    assert words == ["invoice", "number", "7731", "payment", "due", "friday"]
    assert ocr.ocr_image(text_image(["Hello world"]))[0].lower() == "hello world"


def test_image_without_ocr_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "available", lambda: False)
    with pytest.raises(MissingDependency, match=r"zhiku\[ocr\]"):
        parse(text_image(["x"]), "a.png")
    with pytest.raises(ParseError, match=r"pip install 'zhiku\[ocr\]'"):
        parse(image_pdf(text_image(["Scanned"])), "scan.pdf")


@needs_ocr
def test_corrupt_image_rejected() -> None:
    with pytest.raises(ParseError, match="corrupt or unreadable image"):
        parse(b"\x89PNG\r\n\x1a\nnot really", "bad.png")
