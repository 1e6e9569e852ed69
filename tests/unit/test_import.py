import pytest
from sqlalchemy import func, select

from core.errors import ImportValidationError
from integrations.crm.importer import import_csv
from integrations.crm.models import Account, Ticket


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


ACCOUNTS = """Id,Name,Website,Industry,Segment__c,ARR__c,Owner Email
001A,Nakatomi Trading,nakatomi.example,Finance,Enterprise,"$250,000",dana.reyes@retain.example
001B,Gringotts,gringotts.example,Banking,SMB,12000,sam.okafor@retain.example
"""


def count(rt, model):
    with rt.store.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_salesforce_accounts_import_and_reimport_is_idempotent(rt, tmp_path):
    before = count(rt, Account)
    f = write(tmp_path, "a.csv", ACCOUNTS)
    r = import_csv(rt.store, "accounts", f, "salesforce")
    assert (r["inserted"], r["updated"]) == (2, 0)
    r = import_csv(rt.store, "accounts", f, "salesforce")
    assert (r["inserted"], r["updated"]) == (0, 0)  # the same file again changes nothing
    r = import_csv(rt.store, "accounts", write(tmp_path, "b.csv", ACCOUNTS.replace("12000", "15000")), "salesforce")
    assert (r["inserted"], r["updated"]) == (0, 1)  # only the row whose ARR changed
    assert count(rt, Account) == before + 2
    with rt.store.session() as s:
        a = s.scalars(select(Account).where(Account.external_id == "001A")).one()
        assert (a.arr, a.segment) == (250000.0, "enterprise")
        assert s.scalars(select(Account.arr).where(Account.external_id == "001B")).one() == 15000.0


def test_bad_rows_reported_with_line_numbers_and_nothing_written(rt, tmp_path):
    import_csv(rt.store, "accounts", write(tmp_path, "a.csv", ACCOUNTS), "salesforce")
    before = count(rt, Ticket)
    tickets = write(tmp_path, "t.csv", (
        "external_id,account_external_id,priority,status,opened_at,subject,body\n"
        "T1,001A,high,open,2026-11-01,Login broken,SSO fails\n"
        "T2,001A,critical,open,2026-11-02,Bad priority,x\n"
        "T3,NOPE,low,open,2026-11-03,Unknown account,x\n"
        "T4,001B,low,open,yesterday,Bad date,x\n"
        "T5,001B,low,closed,2026-11-04,Fine,x\n"))
    with pytest.raises(ImportValidationError) as err:
        import_csv(rt.store, "tickets", tickets)
    msg = str(err.value)
    assert "line 3: priority" in msg and "line 4: account 'NOPE' does not exist" in msg
    assert "line 5: opened_at" in msg and "nothing was imported" in msg
    assert [line for line, _ in err.value.problems] == [3, 4, 5]
    assert count(rt, Ticket) == before
    r = import_csv(rt.store, "tickets", tickets, skip_bad=True)
    assert (r["inserted"], r["skipped"]) == (2, 3)
    assert count(rt, Ticket) == before + 2


def test_hubspot_contacts_and_duplicate_ids(rt, tmp_path):
    import_csv(rt.store, "accounts", write(tmp_path, "a.csv", ACCOUNTS), "salesforce")
    f = write(tmp_path, "c.csv", (
        "Record ID,Associated Company ID,Full Name,Email,Job Title,Champion\n"
        "C1,001A,Holly Gennero,holly@nakatomi.example,VP Ops,yes\n"
        "C1,001A,Holly Again,h2@nakatomi.example,VP Ops,no\n"))
    with pytest.raises(ImportValidationError, match="line 3: external_id 'C1' repeats line 2"):
        import_csv(rt.store, "contacts", f, "hubspot")
