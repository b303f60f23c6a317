"""The built assets reach collectstatic (under web/) and are served by WhiteNoise as immutable."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.checks import run_checks
from whitenoise.middleware import WhiteNoiseMiddleware

from cdss.web.finders import WebBuildFinder


@pytest.fixture
def web_build(settings, tmp_path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<html></html>", encoding="utf-8")
    (dist / "assets" / "index-AbCd1234.js").write_text("console.log(1)", encoding="utf-8")
    (dist / "favicon.svg").write_text("<svg/>", encoding="utf-8")
    settings.CDSS_WEB_DIST = dist
    return dist


def test_the_finder_lists_the_build_under_web_but_not_its_index(web_build):
    listed = sorted(
        f"{storage.prefix}/{path}" for path, storage in WebBuildFinder().list(ignore_patterns=[])
    )
    assert listed == ["web/assets/index-AbCd1234.js", "web/favicon.svg"]


def test_the_finder_finds_built_files_and_nothing_outside(web_build):
    assert finders.find("web/assets/index-AbCd1234.js") == str(
        (web_build / "assets" / "index-AbCd1234.js").resolve()
    )
    assert WebBuildFinder().find("web/index.html") is None
    assert WebBuildFinder().find("web/../dist/index.html") is None
    assert WebBuildFinder().find("web/../../etc/passwd") is None
    assert WebBuildFinder().find("web/assets/missing.js", find_all=True) == []
    assert WebBuildFinder().find("other/favicon.svg") is None


def test_no_build_is_no_error(settings, tmp_path):
    settings.CDSS_WEB_DIST = tmp_path / "none"
    assert list(WebBuildFinder().list(ignore_patterns=[])) == []
    assert [m for m in run_checks() if m.id and m.id.startswith("staticfiles")] == []


def test_hashed_assets_are_cached_for_good_and_the_rest_briefly():
    whitenoise = WhiteNoiseMiddleware(get_response=lambda request: None)
    assert whitenoise.immutable_file_test("", "/static/web/assets/index-AbCd1234.js")
    assert not whitenoise.immutable_file_test("", "/static/web/favicon.svg")
    assert not whitenoise.immutable_file_test("", "/static/admin/css/base.css")
