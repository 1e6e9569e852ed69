"""A deck written as an editable PowerPoint file with python-pptx: native charts, a replaceable master.

The input is plain data (`DeckSpec`); nothing here knows about accounts. Slides use the template's
layouts by name ("Title Slide", "Title Only"; else the first layout with a title), so a company's
own master (`configs/qbr/template.pptx`, or the `qbr.template` setting) brings its logo, colours
and fonts without code. `theme.yaml` beside the template sets the colours and font Retain draws
with; `use_template_colors: true` leaves charts and text to the master's theme. Charts are
PowerPoint chart parts with their data in an embedded workbook: a CSM can restyle or edit them.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, Literal, TypedDict

import yaml
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LABEL_POSITION, XL_LEGEND_POSITION, XL_TICK_LABEL_POSITION
from pptx.presentation import Presentation as PresentationType
from pptx.slide import Slide, SlideLayout
from pptx.util import Emu, Inches, Pt

from core.errors import ConfigError

ChartKind = Literal["line", "column", "bar"]
_KINDS = {"line": XL_CHART_TYPE.LINE_MARKERS, "column": XL_CHART_TYPE.COLUMN_CLUSTERED,
          "bar": XL_CHART_TYPE.BAR_CLUSTERED}
DEFAULT_THEME = {"font": "Calibri", "title_color": "1F3A5F", "text_color": "333333", "muted_color": "6B7280",
                 "series_colors": ["2E86AB", "F18F01", "6A994E", "C73E1D", "7B2CBF"], "use_template_colors": False}


class Series(TypedDict):
    """One line or set of bars."""

    name: str
    values: list[float]


class ChartSpec(TypedDict):
    """A native chart: kind, title, categories and series, Excel number format of the values."""

    kind: ChartKind
    title: str
    categories: list[str]
    series: list[Series]
    number_format: str


class SlideSpec(TypedDict, total=False):
    """One slide: a title, bullets and/or charts or a table, and its speaker notes."""

    layout: Literal["title", "content"]
    title: str
    subtitle: str
    bullets: list[str]
    charts: list[ChartSpec]
    table: list[list[str]]  # first row: the header
    footnote: str
    notes: str


class DeckSpec(TypedDict):
    """A whole deck."""

    title: str
    slides: list[SlideSpec]


def load_theme(folder: Path) -> dict[str, Any]:
    """`theme.yaml` in the template's folder over the defaults (a missing file means the defaults)."""
    path = folder / "theme.yaml"
    if not path.is_file():
        return dict(DEFAULT_THEME)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"QBR theme {path} is not valid YAML: {exc}".splitlines()[0]) from None
    unknown = set(data) - set(DEFAULT_THEME)
    if not isinstance(data, dict) or unknown:
        raise ConfigError(f"QBR theme {path}: unknown keys {sorted(unknown)}; allowed: {sorted(DEFAULT_THEME)}.")
    return {**DEFAULT_THEME, **data}


def open_template(path: Path | None) -> PresentationType:
    """The company's master, or python-pptx's default made 16:9 (its layouts stretched to the new width)."""
    if path is not None and path.is_file():
        try:
            return Presentation(str(path))
        except Exception as exc:  # noqa: BLE001 - any unreadable file is the same mistake for the operator
            raise ConfigError(f"QBR template {path} is not a PowerPoint file python-pptx can open "
                              f"({type(exc).__name__}). Save it as .pptx, or remove it to use the default.") from None
    prs = Presentation()
    old = prs.slide_width or Inches(10)
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    scale = prs.slide_width / old
    for layout in prs.slide_layouts:
        for ph in layout.placeholders:  # type: ignore[misc] # python-pptx's hints
            left, top, width, height = ph.left, ph.top, ph.width, ph.height  # inherited from the master
            if None not in (left, top, width, height):  # all four: setting one alone zeroes the others
                ph.left, ph.top = Emu(int(left * scale)), top
                ph.width, ph.height = Emu(int(width * scale)), height
    return prs


def _layout(prs: PresentationType, name: str) -> SlideLayout:
    for layout in prs.slide_layouts:
        if layout.name == name:
            return layout
    titled = [lay for lay in prs.slide_layouts
              if any(p.placeholder_format.type == 1 for p in lay.placeholders)]  # type: ignore[misc]
    return min(titled or list(prs.slide_layouts), key=lambda lay: len(lay.placeholders))


def _color(theme: dict[str, Any], key: str) -> RGBColor | None:
    return None if theme["use_template_colors"] else RGBColor.from_string(str(theme[key]))


def _style(run: Any, theme: dict[str, Any], size: int, color: str, bold: bool = False) -> None:
    run.font.size = Pt(size)
    run.font.bold = bold
    if not theme["use_template_colors"]:
        run.font.name = theme["font"]
        run.font.color.rgb = _color(theme, color)


def _title(slide: Slide, text: str, theme: dict[str, Any], size: int = 30) -> None:
    shape = slide.shapes.title
    if shape is None:
        shape = slide.shapes.add_textbox(Inches(0.5), Inches(0.3), Inches(12.3), Inches(1.0))
    shape.text_frame.text = text
    for p in shape.text_frame.paragraphs:
        for r in p.runs:
            _style(r, theme, size, "title_color", bold=True)


def _text(slide: Slide, lines: list[str], box: tuple[float, float, float, float], theme: dict[str, Any],
          size: int = 16, bullet: str = "\u2022 ") -> None:
    tb = slide.shapes.add_textbox(*(Inches(v) for v in box))
    tf = tb.text_frame
    tf.word_wrap = True
    for k, line in enumerate(lines):
        p = tf.paragraphs[0] if k == 0 else tf.add_paragraph()
        p.space_after = Pt(8)
        r = p.add_run()
        r.text = f"{bullet}{line}"
        _style(r, theme, size, "text_color")


def _chart(slide: Slide, spec: ChartSpec, box: tuple[float, float, float, float], theme: dict[str, Any]) -> None:
    data = CategoryChartData(number_format=spec["number_format"])
    data.categories = spec["categories"]
    for s in spec["series"]:
        data.add_series(s["name"], s["values"])
    x, y, cx, cy = (Inches(v) for v in box)
    frame: Any = slide.shapes.add_chart(_KINDS[spec["kind"]], x, y, cx, cy, data)  # type: ignore[arg-type]
    chart = frame.chart
    chart.has_title = True
    chart.chart_title.text_frame.text = spec["title"]
    for p in chart.chart_title.text_frame.paragraphs:
        for r in p.runs:
            _style(r, theme, 14, "title_color", bold=True)
    chart.has_legend = len(spec["series"]) > 1
    if chart.has_legend:
        chart.legend.position, chart.legend.include_in_layout = XL_LEGEND_POSITION.BOTTOM, False
    chart.category_axis.tick_labels.font.size = Pt(11)
    chart.value_axis.tick_labels.font.size = Pt(10)
    if any(v < 0 for s in spec["series"] for v in s["values"]):  # labels beside the axis, not over the bars
        chart.category_axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW
    plot = chart.plots[0]
    plot.has_data_labels = True
    plot.data_labels.number_format, plot.data_labels.number_format_is_linked = spec["number_format"], False
    plot.data_labels.font.size = Pt(10)
    if spec["kind"] == "line" and len(spec["series"]) > 1:  # two lines close together: labels above and below
        for k, series in enumerate(plot.series):
            labels = series.data_labels
            labels.show_value, labels.font.size = True, Pt(10)
            labels.number_format, labels.number_format_is_linked = spec["number_format"], False
            labels.position = XL_LABEL_POSITION.ABOVE if k % 2 == 0 else XL_LABEL_POSITION.BELOW
    if not theme["use_template_colors"]:
        colors = theme["series_colors"]
        for k, series in enumerate(plot.series):
            rgb = RGBColor.from_string(str(colors[k % len(colors)]))
            if spec["kind"] == "line":
                series.format.line.color.rgb = rgb
                series.marker.format.fill.solid()
                series.marker.format.fill.fore_color.rgb = rgb
            else:
                series.format.fill.solid()
                series.format.fill.fore_color.rgb = rgb


def _table(slide: Slide, rows: list[list[str]], box: tuple[float, float, float, float], theme: dict[str, Any]) -> None:
    shape = slide.shapes.add_table(len(rows), len(rows[0]), *(Inches(v) for v in box))
    widths = [0.62, 0.2, 0.18] if len(rows[0]) == 3 else [1 / len(rows[0])] * len(rows[0])
    for k, w in enumerate(widths):
        shape.table.columns[k].width = Inches(box[2] * w)
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            cell = shape.table.cell(i, j)
            cell.text = value
            for p in cell.text_frame.paragraphs:
                for r in p.runs:
                    r.font.size, r.font.bold = Pt(13), i == 0
                    if not theme["use_template_colors"]:
                        r.font.name = theme["font"]


def render(deck: DeckSpec, template: Path | None = None, theme: dict[str, Any] | None = None) -> bytes:
    """The deck as .pptx bytes."""
    theme = theme or dict(DEFAULT_THEME)
    prs = open_template(template)
    width = (prs.slide_width or Inches(13.333)) / 914400
    prs.core_properties.title = deck["title"]
    for spec in deck["slides"]:
        if spec.get("layout") == "title":
            slide = prs.slides.add_slide(_layout(prs, "Title Slide"))
            _title(slide, spec["title"], theme, size=36)
            sub = next((p for p in slide.placeholders if p.placeholder_format.idx == 1), None)
            if sub is not None:
                sub.text_frame.text = spec.get("subtitle", "")
                for p in sub.text_frame.paragraphs:
                    for r in p.runs:
                        _style(r, theme, 18, "muted_color")
            elif spec.get("subtitle"):
                _text(slide, [spec["subtitle"]], (0.6, 4.2, width - 1.2, 1.2), theme, 18, bullet="")
        else:
            slide = prs.slides.add_slide(_layout(prs, "Title Only"))
            _title(slide, spec["title"], theme)
            charts, bullets = spec.get("charts") or [], spec.get("bullets") or []
            left = 0.5
            if bullets:
                text_w = width - 1.0 if not charts and not spec.get("table") else width * 0.4
                _text(slide, bullets, (left, 1.5, text_w, 5.4), theme, 15 if charts else 17)
                left = left + text_w + 0.2
            if spec.get("table"):
                _table(slide, spec["table"], (left, 1.6, width - left - 0.5, 0.5 * len(spec["table"])), theme)
            for k, c in enumerate(charts):
                h = 5.5 / len(charts)
                _chart(slide, c, (left, 1.4 + k * h, width - left - 0.4, h - 0.1), theme)
        if spec.get("footnote"):
            _text(slide, [spec["footnote"]], (0.5, 6.8, width - 1.0, 0.6), theme, 11, bullet="")
        slide.notes_slide.notes_text_frame.text = spec.get("notes", "")
    out = io.BytesIO()
    prs.save(out)
    return out.getvalue()
