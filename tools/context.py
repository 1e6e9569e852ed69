"""What every tool call carries (the store, scorecard, viewer, day) and the source references answers cite."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from core.lazy import lazy
from integrations.crm.store import CRMStore
from tools import access
from tools.access import Viewer
from tools.health import PortfolioHealth, Scorecard, score_portfolio
from tools.renewal_model import RenewalModel
from tools.results import Source
from tools.score_view import FrameView, ScoreView
from tools.scores import ScoreCache

if TYPE_CHECKING:
    import pandas as pd
else:
    pd = lazy("pandas")


def src(kind: str, ident: Any, day: Any, label: Any) -> Source:
    """A source reference: record type, id, date and a short label."""
    when = day.isoformat() if isinstance(day, date) else (str(day)[:10] if day else "")
    return {"type": kind, "id": str(ident), "date": when, "label": str(label)}


@dataclass
class ToolContext:
    """What every tool needs: the store, the scorecard, the model, who is asking and when."""

    store: CRMStore
    card: Scorecard
    viewer: Viewer
    as_of: date
    model: RenewalModel | None = None
    scores: ScoreCache | None = field(default=None, repr=False)
    high_value_arr: float = 150_000.0  # settings `labels.high_value_arr`
    fiscal_start: int = 1  # settings `fiscal_year_start_month`: the month "fiscal Q1" begins
    _health: PortfolioHealth | None = field(default=None, repr=False)
    _view: ScoreView | None = field(default=None, repr=False)

    def prime(self, health: PortfolioHealth) -> None:
        """Use scores already computed for this date (a run over many people scores the portfolio once)."""
        self._health = health
        self._view = None

    def health(self) -> PortfolioHealth:
        """Scores of the whole live portfolio, computed once per context (or per request, with `scores`)."""
        if self._health is None:
            self._health = self.scores.get(self) if self.scores is not None else \
                score_portfolio(self.store, self.card, self.as_of)
        return self._health

    def view(self) -> ScoreView:
        """The same scores read per account (`tools.score_view`): a stored run needs no pandas this way."""
        if self._view is None:
            if self._health is None and self.scores is not None:
                self._view = self.scores.view(self)
            else:
                self._view = FrameView(self.health())
        return self._view

    def visible_ids(self, view: ScoreView) -> list[int]:
        """The accounts of a view the viewer may see, in the view's order."""
        owners = access.visible_owner_ids(self.store, self.viewer)
        if owners is None:
            return list(view.ids)
        return [a for a, o in zip(view.ids, view.column("owner_id"), strict=True) if int(o) in owners]

    def visible(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Rows of a per-account frame the viewer may see."""
        owners = access.visible_owner_ids(self.store, self.viewer)
        if owners is None:
            return frame
        return frame[frame["owner_id"].isin(owners)]
