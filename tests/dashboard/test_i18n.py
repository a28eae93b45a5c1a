from __future__ import annotations

import re
from pathlib import Path

from django.urls import reverse

PO = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_switching_to_simplified_chinese_translates_the_navigation(viewer_client):
    response = viewer_client.post(
        reverse("set_language"), {"language": "zh-hans", "next": reverse("home")}
    )
    assert response.status_code == 302
    html = viewer_client.get(reverse("home")).content.decode()
    assert '<html lang="zh-hans">' in html
    for word in ("概览", "云账号", "镜像仓库凭据", "集群", "审计"):
        assert word in html


def test_the_browser_language_is_honoured(viewer_client):
    html = viewer_client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content
    assert "概览".encode() in html


def test_english_is_the_default(viewer_client):
    html = viewer_client.get(reverse("home")).content.decode()
    assert '<html lang="en">' in html and "Overview" in html


def _entries(text: str) -> list[tuple[str, str]]:
    pairs = []
    for block in text.split("\n\n"):
        if "#, fuzzy" in block:
            pairs.append(("fuzzy", ""))
            continue
        ids = re.findall(r'^msgid "(.*)"$', block, re.M)
        strs = re.findall(r'^msgstr(?:\[0\])? "(.*)"$', block, re.M)
        cont = re.findall(r'^msgstr(?:\[0\])? ""\n"(.+)"$', block, re.M)
        if ids:
            pairs.append((ids[0], (strs[0] if strs else "") or (cont[0] if cont else "")))
    return pairs


def test_every_marked_string_has_a_chinese_translation():
    entries = _entries(PO.read_text())
    untranslated = [msgid for msgid, msgstr in entries[1:] if not msgstr]
    assert len(entries) > 50
    assert untranslated == []


def test_the_compiled_catalogue_matches_the_source():
    import gettext

    with PO.with_suffix(".mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    msgids = [msgid for msgid, _ in _entries(PO.read_text())[1:] if msgid and "\\" not in msgid]
    assert catalogue.gettext("Overview") == "概览"
    assert [m for m in msgids if catalogue.gettext(m) == m] == []
