"""The risk detector on sentences: each kind, negated and resolved mentions, non-signals, the lexicon file."""

from pathlib import Path

import pytest
import yaml

from core.errors import ConfigError
from tools import risk_signals as rs

LABELLED = yaml.safe_load((Path(__file__).resolve().parents[1] / "data" / "risk_signals.yaml").read_text())


def kinds(text: str) -> set[str]:
    return {h.kind for h in rs.detect([text])[0]}


@pytest.mark.parametrize("text,kind", [
    ("FYI they started a 6-week trial of another provider for the support bot.", "competitor"),
    ("Their architect is comparing OpenAI's pricing with ours.", "competitor"),
    ("Said the board asked them to consider competitors at renewal.", "competitor"),
    ("IT spend is frozen for the rest of the fiscal year.", "budget"),
    ("Finance is pushing back on every renewal over 50k.", "budget"),
    ("Half of the data team was laid off on Monday.", "reorg"),
    ("They are in the middle of a restructuring and nobody knows who owns AI now.", "reorg"),
    ("Our champion missed the last two syncs.", "disengaged"),
    ("Marco has gone dark since October.", "disengaged"),
    ("The QBR was cancelled again with no new date.", "disengaged"),
    ("We are going through a vendor security assessment in January.", "review"),
    ("Procurement is forcing a re-tender of every AI contract.", "review"),
    ("They want to cancel the subscription when the term ends.", "cancel"),
    ("Asked whether they can reduce the contract to 40 seats.", "cancel"),
    ("They told us they will not renew.", "cancel"),
    ("Their data platform migration is 'on hold' till the SLA credits come through.", "stalled"),
    ("Management put the whole rollout on the back burner.", "stalled"),
    ("Their COO is very dissatisfied with how the escalation was handled.", "unhappy"),
    ("The support lead is fed up with the rate limit errors.", "unhappy"),
    ("Just heard their exec sponsor quit last week.", "departed"),
    ("Ines left the company in September, she was our main advocate.", "departed"),
])
def test_each_kind_is_found(text, kind):
    assert kind in kinds(text)


@pytest.mark.parametrize("text", [
    "We are not evaluating alternatives; the team loves it.",  # negated
    "They never considered another vendor.",
    "No plans to cut the budget next year.",
    "The budget freeze was lifted last week.",  # resolved
    "Their security review passed without findings.",
    "They looked at other vendors but went with us.",
    "They did not cancel, they expanded.",
    "Kicked off the QBR with their VP and two new teams.",  # not a signal at all
    "They cancelled the nightly batch job and moved to streaming.",
    "Sent the prompt caching guide to cut token costs.",
    "They host everything on AWS and use Google Workspace.",  # a vendor named without a comparison
    "The migration isn't on hold any more, they go live Friday.",
    "Put the onboarding call on hold for a minute while IT dialled in.",
    "Nobody there is unhappy with the support team.",
    "Their champion has not left, she was promoted.",
    "The pilot was paused over the holidays and has since resumed.",
    "",
])
def test_negated_resolved_and_ordinary_sentences_are_not_signals(text):
    assert kinds(text) == set()


def test_each_sentence_of_a_note_is_read_and_quoted_on_its_own():
    note = ("Good call on the roadmap. Priya didn't show to the QBR prep, 2nd time. "
            "Heard they're piloting another vendor for search.")
    hits = rs.detect([note])[0]
    assert {h.kind: h.sentence for h in hits} == {
        "disengaged": "Priya didn't show to the QBR prep, 2nd time.",
        "competitor": "Heard they're piloting another vendor for search."}
    assert all(h.method == "lexicon" and h.phrase for h in hits)


def test_on_held_out_sentences_precision_and_recall():
    from bench.risk_signals import score

    held = [r for r in LABELLED if r["split"] == "held"]
    assert len(held) >= 50 and {r["kind"] for r in held} >= {"competitor", "budget", "reorg", "disengaged",
                                                            "review", "cancel", "none"}
    got = score(held)
    assert got["precision"] >= 0.9 and got["recall"] >= 0.85  # 0.94 and 0.89 when written
    examples = {t for k in rs.load_lexicon().kinds.values() for t in k.examples} | set(rs.load_lexicon().none_examples)
    assert not examples & {r["text"] for r in held}  # measured on sentences the lexicon was not given


def test_a_condition_still_pending_settles_nothing():
    assert "stalled" in kinds("Their rollout is on hold until the outage review is completed.")


def test_reassuring_verdicts_are_recognised():
    assert rs.reassuring("Renewal is on track, P(renew) 0.99.") == "on track"
    assert rs.reassuring("Looks like no risk here.") == "no risk"
    assert rs.reassuring("At risk: 2 signals stand unanswered.") is None


def test_a_broken_lexicon_is_one_clear_error(tmp_path):
    bad = tmp_path / "risk.yaml"
    text = (rs.LEXICON_FILE.read_text()).replace(r"'\bcompetitors?\b'", "'(unclosed'")
    bad.write_text(text)
    with pytest.raises(ConfigError, match=r"risk\.yaml is invalid: .*bad pattern '\(unclosed'"):
        rs.load_lexicon(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        rs.load_lexicon(tmp_path / "missing.yaml")
    bad.write_text("window_days: 60\n")
    with pytest.raises(ConfigError, match="invalid"):
        rs.load_lexicon(bad)
