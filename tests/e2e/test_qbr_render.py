"""A QBR deck opens in another office suite: LibreOffice converts it to a PDF page per slide (real processes)."""

import re
import shutil
import subprocess

import pytest

from retain.decks import make_deck

SOFFICE = shutil.which("soffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed (.ci/run installs libreoffice-impress)")
def test_the_deck_converts_cleanly_with_libreoffice_headless(rt, tmp_path):
    deck = make_deck(rt, "dana.reyes@retain.example", "Initech", "2026Q4")
    src = tmp_path / deck.filename
    src.write_bytes(deck.pptx)
    done = subprocess.run([SOFFICE, f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless",
                           "--convert-to", "pdf", "--outdir", str(tmp_path), str(src)],
                          capture_output=True, text=True, timeout=600)
    pdf = src.with_suffix(".pdf")
    assert done.returncode == 0 and pdf.is_file(), done.stderr[-2000:]
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))
    assert pages == len(deck.spec["slides"])
    if shutil.which("pdftoppm"):  # a page as a picture, as the README shows it
        subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "3", "-l", "3", str(pdf), str(tmp_path / "p")],
                       check=True, timeout=120)
        png = next(tmp_path.glob("p-*3.png"))
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
