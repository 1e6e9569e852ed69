"""The MCP HTTP gate in front of a real ASGI app: a database it cannot reach means 503 and nothing read, never a 500."""

from starlette.testclient import TestClient

from core.settings import load_settings
from retain.mcp.http import Gate
from tools.services import Services


def test_tokens_that_cannot_be_checked_get_503_with_retry_and_the_app_is_never_reached(tmp_path):
    reached = []

    async def app(scope, receive, send):
        reached.append(scope["path"])

    unreachable = "postgresql+psycopg://retain:s3cret@127.0.0.1:1/retain"  # nothing listens there: refused
    gate = Gate(app, Services(load_settings(data_dir=str(tmp_path), database_url=unreachable,
                                            slack={"ops_token": "ops-token-1"})))
    client = TestClient(gate, raise_server_exceptions=True)  # no lifespan: this app is only the gate's target
    r = client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                    headers={"Authorization": "Bearer rtn_whatever-was-issued"})
    assert r.status_code == 503 and r.headers["retry-after"] == "5"
    assert "database is unreachable" in r.json()["error"]["message"]
    assert "127.0.0.1" not in r.text and "s3cret" not in r.text
    assert client.post("/mcp", json={}).status_code == 401  # no token: refused without the database
    assert client.get("/healthz").text == "ok"
    assert client.get("/readyz").status_code == 401  # ops routes need slack.ops_token when one is set
    ready = client.get("/readyz", headers={"Authorization": "Bearer ops-token-1"})
    assert ready.status_code == 503 and ready.json()["failed"][0] == "database" and "s3cret" not in ready.text
    assert reached == []
