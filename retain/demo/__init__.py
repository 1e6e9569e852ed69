"""A deterministic, realistic demo portfolio for an AI/LLM vendor's customer-success team.

Every account has a latent health `h`; usage trend, seat use, latency, errors, tickets, NPS, note
tone, champion presence and renewal outcomes are all drawn from it (plus noise), so scores and
models have real signal. Past renewals are drawn from a known logistic model of the features
90 days before each renewal, which `retain model fit` should recover.

Story arcs, each on a named account (see README): a champion left and usage fell (Wayne Media);
onboarding stuck on SSO (Cyberdyne Systems); p95 latency doubled after a model switch (Globex);
a fine-tune diverged after a learning-rate change (Umbrella Corp); seat growth signalling
expansion (Hooli); renewal in under 30 days with a detractor NPS (Initech); a healthy reference
(Acme Corp); and two accounts with nearly the same name (Vandelay Imports, Vandelay Industries).

Modules: `names` (words and text), `model` (latent health and renewal odds), `signals`
(telemetry, fine-tunes, renewal history), `story` (tickets, NPS, notes, onboarding, the arcs),
`generator` (`generate`) and `writer` (`write`).
"""

from retain.demo.generator import generate
from retain.demo.model import Portfolio, features_from_health, true_renewal_logit
from retain.demo.names import ARC_NAMES, DAYS, MILESTONES
from retain.demo.writer import write

__all__ = ["ARC_NAMES", "DAYS", "MILESTONES", "Portfolio", "features_from_health", "generate", "true_renewal_logit",
           "write"]
