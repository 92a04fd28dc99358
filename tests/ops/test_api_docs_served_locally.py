"""Swagger UI and ReDoc load their scripts from torghut's own static files (drf-spectacular-sidecar), not a CDN."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_api_docs_page_references_only_local_assets_and_they_are_vendored(admin_client, path):
    page = admin_client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "cdn" not in html.lower() and "@latest" not in html
    scripts = re.findall(r'src="([^"]+\.js)"', html)
    assert scripts and all(src.startswith("/static/drf_spectacular_sidecar/") for src in scripts), scripts
    for src in scripts:
        assert finders.find(src.removeprefix("/static/")), src
