"""Static files named by their content: the pages link them with their hash, which a
browser keeps for a year; a file asked for without it, or with a hash of before a
release, is answered to be checked again; and a changed file gets a new hash."""

from __future__ import annotations

import os
import re

from inventory.core.static_files import YEAR, StaticVersions


def test_pages_link_static_files_by_content_kept_a_year(client):
    page = client.get("/login").get_data(as_text=True)
    links = set(re.findall(r'"(/static/[^"?]+)\?v=([0-9a-f]{12})"', page))
    assert {path for path, _v in links} >= {"/static/css/socle.css", "/static/js/menu.js"}
    for path, version in links:
        kept = client.get(f"{path}?v={version}")
        assert kept.status_code == 200, path
        assert kept.cache_control.max_age == YEAR and kept.cache_control.immutable, path
        assert kept.cache_control.public
        kept.close()
    css = "/static/css/socle.css"
    for url in (css, f"{css}?v=000000000000"):  # without its hash, or an old one
        answer = client.get(url)
        assert answer.status_code == 200
        assert answer.cache_control.no_cache and answer.cache_control.max_age is None, url
        answer.close()


def test_a_changed_file_gets_a_new_hash(tmp_path):
    sheet = tmp_path / "site.css"
    sheet.write_text("body { color: black }")
    versions = StaticVersions(str(tmp_path))
    first = versions.of("site.css")
    assert first is not None and versions.of("site.css") == first
    sheet.write_text("body { color: navy }")
    os.utime(sheet, ns=(1, 1))  # a change the clock of a fast write might not show
    assert versions.of("site.css") not in (None, first)
    assert versions.of("../outside.css") is None and versions.of("missing.css") is None
