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


def test_both_languages_have_every_string() -> None:
    text = (STATIC / "js" / "i18n.js").read_text(encoding="utf-8")
    en = text[text.index("en: {"):text.index("zh: {")]
    zh = text[text.index("zh: {"):text.index("const KEY")]
    keys = re.compile(r"(\w+): \"")
    assert set(keys.findall(en)) == set(keys.findall(zh))
    known = set(keys.findall(en))
    used = set()
    for path in (STATIC / "js").glob("*.js"):
        source = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"\bt\(\"(\w+)\"", source))
        if path.name != "i18n.js" and "addStrings({" in source:  # a page module's own strings
            start = source.index("addStrings({")
            block = source[start:source.index("});", start)]
            mod_en = block[block.index("en: {"):block.index("zh: {")]
            mod_zh = block[block.index("zh: {"):]
            assert set(keys.findall(mod_en)) == set(keys.findall(mod_zh)), path.name
            known |= set(keys.findall(mod_en))
    assert used <= known, used - known
