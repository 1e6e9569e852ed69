"""Account names: the live names answers may use, whether a span of a message is one, and finding one by name.

Access is checked here: a name resolves only to an account the viewer may see, and a refusal or a
"did you mean" never names an account the viewer may not see.
"""

from __future__ import annotations

from rapidfuzz import fuzz, process, utils
from sqlalchemy import select

from core.errors import AmbiguousName, NotFoundError
from integrations.crm.models import Account
from integrations.crm.store import CRMStore
from tools import access, name_match
from tools.context import ToolContext, src
from tools.results import AccountHit

_NAMES: dict[str, tuple[int, list[str]]] = {}  # database URL -> (data version, names)


def live_account_names(store: CRMStore) -> list[str]:
    """Names of every account that has not churned (what answers may name), re-read when the data changes."""
    version = store.data_version()
    hit = _NAMES.get(store.url)
    if hit is None or hit[0] != version:
        with store.session() as s:
            hit = (version, list(s.scalars(select(Account.name).where(Account.lifecycle_stage != "churned"))))
        _NAMES[store.url] = hit
    return hit[1]


# The one name-matching policy. A name the person typed as a name (`find_account`) is matched
# leniently on its distinctive words (WRatio >= 80: word order, partial names, typos; never on a
# generic suffix such as Corp or Labs: tools/name_match.py); a span of free text is taken for a name
# only when it is nearly letter-for-letter one (ratio >= 86, exact under 5 letters), so ordinary words
# never become accounts.
LOOKUP_CUTOFF = 80
IN_TEXT_CUTOFF = 86


def looks_like_name(span: str, names: list[str]) -> bool:
    """Whether a span of a message is (nearly) one of `names`."""
    return process.extractOne(span, names, scorer=fuzz.ratio, processor=utils.default_process,
                              score_cutoff=100 if len(span) < 5 else IN_TEXT_CUTOFF) is not None


def find_account(ctx: ToolContext, name: str) -> AccountHit:
    """Find the account a CSM means by a name, allowing typos; several close matches are candidates."""
    query = name.strip()
    if not query:
        raise NotFoundError("No account name given. Say which account you mean.")
    with ctx.store.session() as s:
        rows = s.execute(select(Account.id, Account.name, Account.owner_id)
                         .where(Account.lifecycle_stage != "churned")).all()
    names = {r.id: r.name for r in rows}
    exact = [r for r in rows if r.name.casefold() == query.casefold()]
    if not exact:
        exact = [r for r in rows if r.name.casefold().split()[0] == query.casefold()
                 and len(query) >= 3]
    if len(exact) == 1:
        hit = exact[0]
    else:
        scored = name_match.candidates(query, {r.id: r.name for r in (exact or rows)}, LOOKUP_CUTOFF)
        if not scored:
            owners = access.visible_owner_ids(ctx.store, ctx.viewer)  # only names the asker may see
            seen = [r.name for r in rows if owners is None or r.owner_id in owners]
            near = name_match.closest(query, seen)
            raise NotFoundError(f"No account matches '{query}'." + (f" Closest: {', '.join(near)}." if near else "")
                                + " Check the spelling, or run `retain accounts` to list them.")
        best = scored[0][1]
        close = [m for m in scored if m[1] >= best - 3]
        visible = [m for m in close if access.can_see(ctx.store, ctx.viewer, m[2])]
        if len(visible) > 1:  # only names the asker may see are ever listed
            raise AmbiguousName(query, [m[0] for m in visible])
        chosen = visible[0] if visible else close[0]
        hit = next(r for r in rows if r.id == chosen[2])
    access.check(ctx.store, ctx.viewer, hit.id, query)  # a refusal echoes what was typed, never the real name
    return {"account_id": hit.id, "name": names[hit.id],
            "sources": [src("account", hit.id, None, hit.name)]}
