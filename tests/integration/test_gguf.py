"""`retain models`: pinned downloads through huggingface_hub from a hub that speaks its protocol on 127.0.0.1."""

import hashlib
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from models_dir import MINILM, model

from core.settings import load_settings
from integrations import gguf

PAYLOAD = b"GGUF" + bytes(range(256)) * 4096  # what a hub serves: bytes pinned by sha256
SHA = hashlib.sha256(PAYLOAD).hexdigest()
COMMIT = "a" * 40


class Hub(BaseHTTPRequestHandler):
    """The two requests hf_hub_download makes: HEAD for metadata, GET for the bytes."""

    files: dict[str, bytes] = {}

    def _find(self):
        # /{repo}/resolve/{revision}/{file}
        parts = self.path.split("?")[0].strip("/").split("/")
        if len(parts) < 5 or parts[2] != "resolve":
            return None
        return self.files.get(f"{parts[0]}/{parts[1]}/{'/'.join(parts[4:])}")

    def _head(self, body):
        self.send_response(200)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("ETag", f'"{hashlib.sha256(body).hexdigest()}"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()

    def do_HEAD(self):  # noqa: N802
        body = self._find()
        if body is None:
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.end_headers()
            return
        self._head(body)

    def do_GET(self):  # noqa: N802
        body = self._find()
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self._head(body)
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def hub():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Hub)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    Hub.files = {"acme/tiny-GGUF/tiny.gguf": PAYLOAD}
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


def spec(sha=SHA):
    return gguf.ModelSpec(name="tiny", kind="chat", repo="acme/tiny-GGUF", file="tiny.gguf", sha256=sha)


def test_pull_downloads_and_verifies(hub, tmp_path):
    path = gguf.pull(spec(), tmp_path / "models", endpoint=hub)
    assert path == tmp_path / "models" / "tiny.gguf"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA
    # Present and verified: no second download even if the hub disappears.
    assert gguf.pull(spec(), tmp_path / "models", endpoint="http://127.0.0.1:9") == path


def test_checksum_mismatch_deletes_the_file(hub, tmp_path):
    with pytest.raises(gguf.ModelMissing, match="not the pinned"):
        gguf.pull(spec("0" * 64), tmp_path / "models", endpoint=hub)
    assert not (tmp_path / "models" / "tiny.gguf").exists()


def test_offline_says_where_to_put_the_file(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # as HF_HUB_OFFLINE=1 does
    with pytest.raises(gguf.ModelMissing, match="copy the file to .*tiny.gguf"):
        gguf.pull(spec(), tmp_path / "models", endpoint="http://127.0.0.1:9")


def test_registry_pins_every_model():
    reg = gguf.registry()
    assert {"chat", "embedding"} <= {s.kind for s in reg.values()}
    for s in reg.values():
        assert len(s.sha256) == 64 and s.repo.count("/") == 1 and s.file.endswith(".gguf")


def test_resolution_and_missing_message(tmp_path):
    s = load_settings(models_dir=str(tmp_path))
    name, path = gguf.resolve(s, "chat")
    assert path == tmp_path / gguf.registry()[name].file
    with pytest.raises(gguf.ModelMissing, match=f"retain models pull {name}"):
        gguf.require(s, "chat")
    (tmp_path / "mine.gguf").write_bytes(PAYLOAD)
    explicit = load_settings(llm={"model_path": str(tmp_path / "mine.gguf")})
    assert gguf.require(explicit, "chat") == tmp_path / "mine.gguf"


def test_models_list_cli_shows_present_and_missing(tmp_path):
    env = {**os.environ, "RETAIN_MODELS_DIR": str(tmp_path),
           "RETAIN_EMBEDDING__MODEL_PATH": str(model(MINILM))}
    out = subprocess.run([sys.executable, "-m", "retain", "models", "list", "--json"], env=env,
                         capture_output=True, text=True, check=True).stdout
    import json

    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["all-minilm-l6-v2"]["present"] and rows["all-minilm-l6-v2"]["size_bytes"] > 20_000_000
    assert not rows["qwen2.5-3b-instruct"]["present"] and rows["qwen2.5-3b-instruct"]["in_use"]


def test_a_file_named_with_other_case_is_found(tmp_path):
    """Hubs spell one model's file both ways (all-MiniLM-… / all-minilm-…): the folder's copy is used."""
    (tmp_path / "All-MiniLM-L6-v2-Q8_0.gguf").write_bytes(b"GGUF")
    s = load_settings(models_dir=str(tmp_path))
    assert gguf.require(s, "embedding") == tmp_path / "All-MiniLM-L6-v2-Q8_0.gguf"
    (tmp_path / "other.gguf").write_bytes(b"GGUF")
    with pytest.raises(gguf.ModelMissing):
        gguf.require(s, "chat")
