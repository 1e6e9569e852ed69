"""QBR decks for the CLI, Slack and the scheduled prep: the content from the agents, the file from the adapter."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from agents.context import request_deps
from agents.qbr import DeckInfo, build
from integrations.pptx_deck import DeckSpec, load_theme, render
from tools.access import Asker
from tools.services import Services


@dataclass
class Deck:
    """A built deck: its file, its content and what it was built from."""

    pptx: bytes
    spec: DeckSpec
    info: DeckInfo
    seconds: float = 0.0

    @property
    def filename(self) -> str:
        """'Acme-Corp-QBR-2026Q4.pptx'."""
        name = re.sub(r"[^A-Za-z0-9]+", "-", self.info["account"]["name"]).strip("-") or "account"
        return f"{name}-QBR-{self.info['quarter']}.pptx"


def make_deck(services: Services, who: Asker | str, account: str, quarter: str | None = None, chat: Any = None,
              use_memory: bool = False) -> Deck:
    """Build the deck `who` asked for (access is checked by the tools, as for every answer)."""
    t = time.perf_counter()
    asker = services.asker(who)
    deps = request_deps(services, chat, use_memory=use_memory, asker=asker)
    spec, info = build(deps, asker.key, account, quarter)
    template = services.settings.qbr_template
    pptx = render(spec, template if template.is_file() else None, load_theme(template.parent))
    return Deck(pptx, spec, info, round(time.perf_counter() - t, 3))
