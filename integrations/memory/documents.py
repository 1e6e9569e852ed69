"""Memory documents: what Retain embeds from the CRM and the knowledge base, and how it is chunked."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from configs import CONFIG_DIR
from integrations.crm.models import Account, Activity, RememberedFact, SurveyResponse, Ticket
from integrations.crm.store import CRMStore

KNOWLEDGE_DIR = CONFIG_DIR / "knowledge"


@dataclass
class Doc:
    """One source document before chunking."""

    key: str  # e.g. activity:42, ticket:7, survey:3, fact:5, kb:tuning#quantization
    text: str
    meta: dict[str, Any]

    @property
    def digest(self) -> str:
        """Changes whenever the text or its metadata changes."""
        h = hashlib.sha1(self.text.encode())
        h.update(repr(sorted(self.meta.items())).encode())
        return h.hexdigest()



_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def chunk_text(text: str, limit: int) -> list[str]:
    """Split on paragraphs, then sentences, then hard, into pieces of at most `limit` chars."""
    pieces: list[str] = []
    for para in re.split(r"\n\s*\n", text.strip()):
        para = para.strip()
        if not para:
            continue
        if len(para) <= limit:
            pieces.append(para)
            continue
        for sent in _SENTENCE.split(para):
            while len(sent) > limit:
                pieces.append(sent[:limit])
                sent = sent[limit:]
            pieces.append(sent)
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 1 + len(piece) <= limit:
            chunks[-1] = f"{chunks[-1]} {piece}"
        else:
            chunks.append(piece)
    return chunks or [text.strip()[:limit]]


def knowledge_docs(folder: Path = KNOWLEDGE_DIR) -> list[Doc]:
    """The playbooks, one document per `##` section (file title, heading and body)."""
    docs: list[Doc] = []
    for path in sorted(folder.glob("*.md")):
        title = path.stem
        sections: list[tuple[str, list[str]]] = []
        for line in path.read_text().splitlines():
            if line.startswith("# "):
                title = line[2:].strip()
            elif line.startswith("## "):
                sections.append((line[3:].strip(), []))
            elif sections:
                sections[-1][1].append(line)
        for heading, body in sections:
            text = "\n".join(body).strip()
            if not text:
                continue
            slug = re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")
            docs.append(Doc(f"kb:{path.stem}#{slug}", f"{title} / {heading}\n{text}",
                            {"kind": "playbook", "topic": path.stem, "heading": heading,
                             "label": f"{title}: {heading}", "source_type": "playbook",
                             "source_id": f"{path.name}#{slug}", "date": "", "account_id": 0}))
    return docs


def crm_docs(store: CRMStore) -> Iterator[Doc]:
    """Notes, ticket text and survey comments from the CRM, as memory documents."""
    with store.session() as s:
        accts = {r[0]: (r[1], r[2] or 0) for r in s.execute(select(Account.id, Account.name, Account.owner_id))}

        def who(aid: int) -> dict[str, Any]:
            name, owner = accts.get(aid, ("", 0))
            return {"account": name, "owner_id": owner}

        for a in s.scalars(select(Activity).order_by(Activity.id)):
            yield Doc(f"activity:{a.id}", f"{a.subject}\n{a.body}",
                      {"kind": a.kind, "account_id": a.account_id, "date": a.occurred_on.isoformat(),
                       "source_type": "activity", "source_id": str(a.id), "label": a.subject,
                       "author": a.author, **who(a.account_id)})
        for t in s.scalars(select(Ticket).order_by(Ticket.id)):
            yield Doc(f"ticket:{t.id}", f"Ticket: {t.subject}\n{t.body}",
                      {"kind": "ticket", "account_id": t.account_id, "date": t.opened_at.date().isoformat(),
                       "source_type": "ticket", "source_id": str(t.id), "label": t.subject,
                       "status": t.status, "priority": t.priority, **who(t.account_id)})
        for r in s.scalars(select(SurveyResponse).where(SurveyResponse.comment.is_not(None))
                           .where(SurveyResponse.comment != "").order_by(SurveyResponse.id)):
            yield Doc(f"survey:{r.id}", f"{r.kind.upper()} {r.score}: {r.comment}",
                      {"kind": r.kind, "account_id": r.account_id, "date": r.responded_on.isoformat(),
                       "source_type": r.kind, "source_id": str(r.id), "label": f"{r.kind.upper()} {r.score}",
                       "score": r.score, **who(r.account_id)})


def fact_docs(store: CRMStore) -> Iterator[Doc]:
    """Remembered facts, as memory documents."""
    with store.session() as s:
        names: dict[int, str] = {r[0]: r[1] for r in s.execute(select(Account.id, Account.name))}
        for f in s.scalars(select(RememberedFact).order_by(RememberedFact.id)):
            yield Doc(f"fact:{f.id}", f.text,
                      {"kind": "fact", "account_id": f.account_id, "date": f.said_at.date().isoformat(),
                       "source_type": "fact", "source_id": str(f.id), "label": f"remembered from {f.said_by}",
                       "said_by": f.said_by, "said_at": f.said_at.isoformat(timespec="seconds"),
                       "account": names.get(f.account_id, "")})
