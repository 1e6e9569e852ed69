"""Two imports of the same people at once (an operator's two terminals, a deploy script run twice).

Found walking the README's production section: three `retain csms import people.csv` at once on a
new PostgreSQL database; one printed "unexpected IntegrityError" with the SQL and every person's
details. Each import is all or nothing, so the one that loses the race reads again and finds the
people the other added.
"""

import threading

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from integrations.crm.models import CSM
from tools import people

FILE = """name,email,role,team,manager_email,slack_user_id,timezone
Ana Lima,ana.lima@retain.example,csm,East,,U0ANA0001,America/Sao_Paulo
Bo Park,bo.park@retain.example,csm,West,,U0BOP0001,America/Denver
"""


def test_two_imports_of_the_same_people_at_once_both_succeed(rt, tmp_path, monkeypatch):
    path = tmp_path / "people.csv"
    path.write_text(FILE)
    both_looked = threading.Barrier(2, timeout=60)
    first: set[int] = set()
    save = people._save

    def save_after_both_looked(s, p, batch):
        if threading.get_ident() not in first:  # both transactions are open before either inserts anyone
            first.add(threading.get_ident())
            both_looked.wait()
        return save(s, p, batch)

    monkeypatch.setattr(people, "_save", save_after_both_looked)
    results: list[dict] = []
    errors: list[BaseException] = []

    def run():
        try:
            results.append(people.import_csv(rt.store, path))
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == [], errors
    assert sorted(r["added"] for r in results) == [0, 2]
    assert sorted(r["unchanged"] for r in results) == [0, 2]
    with rt.store.session() as s:
        assert s.scalar(select(func.count()).select_from(CSM).where(CSM.email.like("%.%@retain.example"),
                                                                    CSM.slack_user_id.in_(["U0ANA0001", "U0BOP0001"]))
                        ) == 2


def test_an_unexpected_database_error_is_one_line_without_its_statement_or_rows(rt, run_cli, monkeypatch, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(FILE)

    def collide(*_a, **_k):
        raise IntegrityError("INSERT INTO csms (name, email) VALUES (%(name)s, %(email)s)",
                             {"name": "Ana Lima", "email": "ana.lima@retain.example"},
                             Exception('duplicate key value violates unique constraint "csms_email_key"'))

    monkeypatch.setattr(people, "import_csv", collide)
    env = {"RETAIN_DATA_DIR": str(rt.settings.data_dir), "RETAIN_LLM__BACKEND": "none"}
    if rt.settings.database_url:
        env["RETAIN_DATABASE_URL"] = rt.settings.database_url
    code, out, err = run_cli("csms", "import", str(path), env_extra=env)
    assert code == 1 and "csms_email_key" in err and "run it again" in err, err
    assert "INSERT" not in err and "ana.lima" not in err and "Traceback" not in err, err
