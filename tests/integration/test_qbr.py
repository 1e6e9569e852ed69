"""QBR decks: the .pptx a CSM walks into the meeting with, opened with python-pptx and checked against SQL."""

import io
import json
import re
from datetime import date, timedelta

import pytest
from fakes import QueuedChat
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE
from pptx.util import Inches
from sqlalchemy import delete, func, select

from agents.composer import _ordered, allowed_text, number_sources
from agents.qbr import summary
from agents.state import Deps
from integrations.crm.models import Account, SurveyResponse, TelemetryDaily, Ticket
from retain.decks import make_deck

DANA, MARCUS = "dana.reyes@retain.example", "marcus.chen@retain.example"
NUM = re.compile(r"(?<![\w.])[-+]?\$?\d[\d,]*(?:\.\d+)?")
ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:T[\d:]+)?\b")
NOTE_LINE = re.compile(r" \u2014 (\w+ [^,]+, (?:[\d-]+|undated)|no record)")


def _nums(text):
    out = set()
    for tok in NUM.findall(ISO.sub(" ", text)):
        out.add(f"{float(tok.replace('$', '').replace(',', '').lstrip('+')):.6g}")
    return out


@pytest.fixture
def env(rt):
    out = {"RETAIN_DATA_DIR": str(rt.settings.data_dir), "RETAIN_LLM__BACKEND": "none"}
    if rt.settings.database_url:
        out["RETAIN_DATABASE_URL"] = rt.settings.database_url
    return out


def _account_id(rt, name):
    with rt.store.session() as s:
        return s.scalar(select(Account.id).where(Account.name == name))


def _slides(path):
    prs = Presentation(str(path))
    out = []
    for slide in prs.slides:
        texts, charts, tables = [], [], []
        for sh in slide.shapes:
            if sh.has_chart:
                charts.append(sh.chart)
            elif sh.has_table:
                tables.append([[c.text for c in r.cells] for r in sh.table.rows])
            elif sh.has_text_frame:
                texts.append(sh.text_frame.text)
        title = slide.shapes.title.text_frame.text if slide.shapes.title is not None else texts[0]
        out.append({"title": title, "text": "\n".join(texts), "charts": charts, "tables": tables,
                    "notes": slide.notes_slide.notes_text_frame.text})
    return out


def _by_title(slides, start):
    return next(s for s in slides if s["title"].startswith(start))


def test_the_deck_has_the_qbr_sections_with_native_charts_whose_series_match_sql(rt, run_cli, env, tmp_path):
    out = tmp_path / "initech.pptx"
    code, stdout, err = run_cli("--as", DANA, "qbr", "initech", "--quarter", "2026Q4", "--out", str(out),
                                env_extra=env)
    assert code == 0, err
    assert f"Wrote {out}" in stdout.replace("\n", "")
    slides = _slides(out)
    titles = [s["title"] for s in slides]
    assert titles[0].startswith("Initech") and titles[1] == "Executive summary"
    for section in ("Adoption and usage, 2026Q4", "Model performance", "Support", "Sentiment",
                    "Health and its drivers", "Renewal outlook and expansion", "Recommendations and next steps"):
        assert section in titles
    assert titles[-1].startswith("Appendix: sources")
    assert 3 <= len([b for b in slides[1]["text"].split("\n") if b.startswith("\u2022")]) <= 5
    aid = _account_id(rt, "Initech")
    usage = _by_title(slides, "Adoption and usage")
    line, seats = usage["charts"]
    assert line.chart_type == XL_CHART_TYPE.LINE_MARKERS and seats.chart_type == XL_CHART_TYPE.COLUMN_CLUSTERED
    months = list(line.plots[0].categories)
    with rt.store.session() as s:
        last = date.fromisoformat(str(s.scalar(select(func.max(TelemetryDaily.day))
                                              .where(TelemetryDaily.account_id == aid)))[:10])
    # The month still running says so, so its lower total is not read as a drop in usage.
    assert months == ["Jul 2026", "Aug 2026", "Sep 2026", "Oct 2026", f"Nov 2026 (1-{last.day})"]
    t = TelemetryDaily
    with rt.store.session() as s:
        for k, first in enumerate(date(2026, m, 1) for m in range(7, 12)):
            nxt = date(2026, first.month + 1, 1)
            in_month = (t.account_id == aid) & (t.day >= first) & (t.day < min(nxt, date(2026, 11, 23)))
            tokens = s.scalar(select(func.sum(t.input_tokens + t.output_tokens)).where(in_month))
            requests = s.scalar(select(func.sum(t.api_requests)).where(in_month))
            peak = s.scalar(select(func.max(t.seats_used)).where(in_month))
            assert line.plots[0].series[0].values[k] == round(tokens / 1e6, 1)
            assert line.plots[0].series[1].values[k] == round(requests / 1e3, 1)
            assert seats.plots[0].series[0].values[k] == peak
        by_priority = dict(s.execute(select(Ticket.priority, func.count()).where(
            Ticket.account_id == aid, Ticket.opened_at >= date(2026, 10, 1)).group_by(Ticket.priority)).all())
        nps = s.scalars(select(SurveyResponse.score).where(
            SurveyResponse.account_id == aid, SurveyResponse.kind == "nps",
            SurveyResponse.responded_on > date(2026, 11, 22) - timedelta(days=365))
            .order_by(SurveyResponse.responded_on)).all()
    support = _by_title(slides, "Support")["charts"][0]
    assert support.chart_type == XL_CHART_TYPE.COLUMN_CLUSTERED
    assert dict(zip(support.plots[0].categories, support.plots[0].series[0].values, strict=True)) == {
        p.capitalize(): float(by_priority.get(p, 0)) for p in ("urgent", "high", "normal", "low")}
    sentiment = _by_title(slides, "Sentiment")["charts"][0]
    assert sentiment.chart_type == XL_CHART_TYPE.LINE_MARKERS and list(sentiment.plots[0].series[0].values) == nps
    perf = _by_title(slides, "Model performance")["charts"][0]
    assert perf.chart_type == XL_CHART_TYPE.COLUMN_CLUSTERED and list(perf.plots[0].categories) == ["cirrus-code v1.8"]
    steps = _by_title(slides, "Recommendations and next steps")["tables"][0]
    assert steps[0] == ["Next step", "Owner", "By"] and len(steps) >= 3
    assert all(r[1] == "Dana Reyes" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", r[2]) for r in steps[1:])


def test_every_number_on_a_slide_is_a_finding_and_is_cited_in_the_speaker_notes(rt, tmp_path):
    deck = make_deck(rt, DANA, "Initech", "2026Q4")
    path = tmp_path / "d.pptx"
    path.write_bytes(deck.pptx)
    allowed = _nums(allowed_text("", deck.info["findings"]))
    checked = 0
    for s in _slides(path):
        if s["title"].startswith("Appendix"):  # the sources themselves
            continue
        lines = [ln for ln in s["notes"].splitlines() if ln.startswith("\u2022")]
        cited = [ln for ln in lines if NOTE_LINE.search(ln) and "no record" not in ln]
        noted = set().union(*(_nums(ln.split(" \u2014 ")[0]) for ln in cited)) if cited else set()
        shown = _nums(s["text"] + " " + " ".join(c for t in s["tables"] for r in t[1:] for c in r))
        for chart in s["charts"]:
            shown |= {f"{v:.6g}" for series in chart.plots[0].series for v in series.values}
        assert shown <= allowed, (s["title"], shown - allowed)
        assert shown <= noted, (s["title"], shown - noted)
        checked += len(shown)
        for ln in cited:  # each cited record is the record it names, with its date
            kind, ident = NOTE_LINE.search(ln).group(1).split(",")[0].split(" ", 1)
            if kind == "ticket":
                with rt.store.session() as db:
                    assert db.get(Ticket, int(ident)) is not None
    assert checked > 40


def test_an_account_without_telemetry_gets_a_shorter_deck_that_says_what_is_missing(rt, tmp_path):
    full = make_deck(rt, DANA, "Initech", "2026Q4")
    aid = _account_id(rt, "Initech")
    with rt.store.session() as s:
        s.execute(delete(TelemetryDaily).where(TelemetryDaily.account_id == aid))
        s.commit()
    short = make_deck(rt, DANA, "Initech", "2026Q4")
    path = tmp_path / "short.pptx"
    path.write_bytes(short.pptx)
    slides = _slides(path)
    titles = [s["title"] for s in slides]
    assert len(slides) < len(full.spec["slides"])
    assert not any(t.startswith(("Adoption and usage", "Model performance")) for t in titles)
    said = _by_title(slides, "Executive summary")["text"]
    assert "Not in this deck:" in said and "adoption and usage (no telemetry this quarter)" in said
    assert "model performance (no telemetry or fine-tunes this quarter)" in said
    assert 3 <= len([ln for ln in said.splitlines() if ln.startswith("\u2022")]) <= 5


def test_a_csm_cannot_build_another_csms_deck_and_nothing_is_written(rt, run_cli, env, tmp_path):
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "x.pptx"
    code, stdout, err = run_cli("--as", MARCUS, "qbr", "Initech", "--out", str(out), env_extra=env)
    assert code == 2 and not list(out.parent.iterdir())
    code, _, err = run_cli("--as", MARCUS, "qbr", "Initech", env_extra=env)  # nor in the default folder
    assert code == 2 and not (rt.settings.data_dir / "qbr").exists()
    assert "not in your portfolio" in err and "Traceback" not in err + stdout
    for boss in ("olivia.grant@retain.example", "avery.stone@retain.example"):  # her manager and an admin may
        code, stdout, err = run_cli("--as", boss, "qbr", "Initech", "--out", str(out), "--json", env_extra=env)
        assert code == 0 and out.exists(), err
        shown = json.loads(stdout)
        assert shown["file"] == str(out) and shown["account"]["name"] == "Initech" and shown["owner"] == "Dana Reyes"
        assert [s["title"] for s in shown["slides"]] == [s["title"] for s in _slides(out)]
        out.unlink()


@pytest.mark.parametrize("args,said", [
    (("Nosuchco",), "No account matches 'Nosuchco'"),
    (("Initech", "--quarter", "2026Q5"), "'2026Q5' is not a quarter"),
    (("Initech", "--quarter", "last year"), "'last year' is not a quarter"),
    (("Initech", "--quarter", "2027Q3"), "2027Q3 has not started yet"),
    (("Initech", "--out", "deck.txt"), "must end in .pptx"),
])
def test_bad_input_gets_one_clear_error_and_no_file(run_cli, env, tmp_path, args, said):
    (tmp_path / "out").mkdir()
    out = ["--out", str(tmp_path / "out" / "d.pptx")] if "--out" not in args else []
    code, stdout, err = run_cli("--as", DANA, "qbr", *args, *out, env_extra=env)
    assert code == 2 and said in " ".join(err.split()), err
    assert "Traceback" not in err + stdout and len(err.strip().splitlines()) <= 2
    assert not list((tmp_path / "out").iterdir())


def test_a_company_master_replaces_the_default_without_code(rt, run_cli, env, tmp_path):
    master = tmp_path / "brand"
    master.mkdir()
    prs = Presentation()  # a 4:3 master, standing in for the company's own
    prs.save(str(master / "company.pptx"))
    (master / "theme.yaml").write_text("use_template_colors: true\n")
    out = tmp_path / "d.pptx"
    code, _, err = run_cli("--as", DANA, "qbr", "Initech", "--out", str(out),
                           env_extra={**env, "RETAIN_QBR__TEMPLATE": str(master / "company.pptx")})
    assert code == 0, err
    deck = Presentation(str(out))
    assert deck.slide_width == Inches(10)
    runs = [r for sh in deck.slides[1].shapes if sh.has_text_frame for p in sh.text_frame.paragraphs for r in p.runs]
    assert runs and all(r.font.color.type is None for r in runs)  # the master's theme colours, not Retain's
    default = make_deck(rt, DANA, "Initech")
    assert Presentation(io.BytesIO(default.pptx)).slide_width == Inches(13.333)
    (master / "company.pptx").write_text("not a deck")
    code, _, err = run_cli("--as", DANA, "qbr", "Initech", "--out", str(tmp_path / "e.pptx"),
                           env_extra={**env, "RETAIN_QBR__TEMPLATE": str(master / "company.pptx")})
    assert code == 2 and "is not a PowerPoint file" in err and not (tmp_path / "e.pptx").exists()


def test_the_models_summary_is_used_only_when_the_verifier_passes_it(rt):
    deck = make_deck(rt, DANA, "Initech", "2026Q4")
    findings = deck.info["findings"]
    names = ["Initech", "Acme Corp", "Globex"]
    sources, _ = number_sources(_ordered(findings))
    number = {(s["type"], s["id"]): s["n"] for s in sources}
    picked = summary.picked_summary(findings)[:3]
    lines = [f"- {text} " + "".join(f"[{number[(s['type'], s['id'])]}]" for s in srcs) for text, srcs in picked]
    rec = summary.recommendations(findings)[0]
    step = f"- {rec[0]} " + "".join(f"[{number[(s['type'], s['id'])]}]" for s in rec[1])
    chat = QueuedChat(replies=["SUMMARY:\n" + "\n".join(lines) + "\nNEXT STEPS:\n" + step + "\n"])
    said, steps, how = summary.written(Deps(services=rt, chat=chat, use_memory=False), "Initech", findings, names)
    assert how == "llm: verified", how
    assert [t for t, _ in said] == [t for t, _ in picked] and [t for t, _ in steps] == [rec[0]]
    assert [s["id"] for s in said[0][1]] == [s["id"] for s in picked[0][1]]  # citations kept for the notes
    invented = "SUMMARY:\n- Health is 97 [1]\n- Usage grew 400% [1]\n- Renews on 2031-01-01 [1]\nNEXT STEPS:\n- x [1]\n"
    chat = QueuedChat(replies=[invented, invented])
    said, steps, how = summary.written(Deps(services=rt, chat=chat, use_memory=False), "Initech", findings, names)
    assert how.startswith("deterministic: the model's text had unsupported claims") and steps is None
    assert [t for t, _ in said] == [t for t, _ in summary.picked_summary(findings)]
    assert not chat.replies  # one rewrite was asked for, then the findings' own words were used
