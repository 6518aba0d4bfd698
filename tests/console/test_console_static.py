"""The console is served by the API app (no browser needed): the page, its assets, nothing
fetched from elsewhere, and the API's own paths and OpenAPI schema untouched."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from zhiku.api.app import create_app
from zhiku.console import STATIC
from zhiku.core.settings import Settings


@pytest.fixture
def client(zhiku_home: Path) -> Iterator[TestClient]:
    settings = Settings(home=zhiku_home, embedder="hashing", ocr=False)
    with TestClient(create_app(settings)) as c:
        yield c


def test_page_and_assets_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/console/js/main.js">' in page.text
    js = client.get("/console/js/main.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert client.get("/console/app.css").headers["content-type"].startswith("text/css")
    assert client.get("/console/nope.js").status_code == 404


def test_every_module_import_resolves_and_nothing_is_remote() -> None:
    total = 0
    for path in STATIC.rglob("*"):
        if path.suffix not in (".js", ".css", ".html"):
            continue
        text = path.read_text(encoding="utf-8")
        total += len(text.encode())
        assert not re.search(r"(src|href)=\"https?://|url\(https?:|import .* from \"https?:", text)
        for target in re.findall(r'from "(\./[^"]+)"', text):
            assert (path.parent / target).resolve().is_file(), f"{path.name} imports {target}"
    assert total < 500 * 1024


def test_lazy_routes_name_real_page_functions() -> None:
    """main.js imports page modules on first use: each names a file and a function it exports,
    and the first load (the shell and the sign-in page) imports no page module statically."""
    main = (STATIC / "js" / "main.js").read_text(encoding="utf-8")
    routes = re.findall(r'"(\./[\w-]+\.js)", "(\w+)"\]', main)
    assert len(routes) >= 12
    for module, name in routes:
        text = (STATIC / "js" / module).read_text(encoding="utf-8")
        assert re.search(rf"export (async )?function {name}\(", text), (module, name)
    static = set(re.findall(r'from "\./([\w-]+\.js)"', main))
    assert static == {"api.js", "i18n.js", "ui.js", "login.js"}, static


def test_api_paths_and_schema_unchanged(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/" not in spec["paths"] and not any(p.startswith("/console") for p in spec["paths"])
    assert client.get("/docs").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/v1/kbs").status_code == 401


def _string_tables(text: str, start: str, end: str) -> tuple[set[str], set[str]]:
    """The keys of the ``en`` and ``zh`` tables between ``start`` and ``end``."""
    body = text[text.index(start):text.index(end, text.index(start))]
    en, zh = body[body.index("en: {"):body.index("zh: {")], body[body.index("zh: {"):]
    keys = re.compile(r"(\w+): [\"`]")
    return set(keys.findall(en)), set(keys.findall(zh))


def test_both_languages_have_every_string() -> None:
    """The shell's table and every page module's own (``addStrings``) cover both languages,
    and every ``t("key")`` used anywhere is defined somewhere."""
    text = (STATIC / "js" / "i18n.js").read_text(encoding="utf-8")
    en, zh = _string_tables(text, "const STRINGS", "const KEY")
    assert en == zh, en ^ zh
    defined, used = set(en), set()
    for path in (STATIC / "js").glob("*.js"):
        module = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\(\"(\w+)\"", module))
        if "addStrings({" in module and path.name != "i18n.js":
            more_en, more_zh = _string_tables(module, "addStrings({", "\n});")
            assert more_en == more_zh, (path.name, more_en ^ more_zh)
            defined |= more_en
    assert used <= defined, used - defined
