"""The QBR deck: what a quarterly business review shows, from the same verified findings as answers."""

from agents.qbr.deck import DeckInfo, build
from agents.qbr.request import deck_request

__all__ = ["DeckInfo", "build", "deck_request"]
