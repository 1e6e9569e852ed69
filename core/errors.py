"""Errors a user can act on: each carries one clear line saying what was wrong and what to do."""

import re


class RetainError(Exception):
    """An error whose message is shown to the user as is, with no traceback."""


class ConfigError(RetainError):
    """A setting is missing or holds a value that is not allowed."""


class NotFoundError(RetainError):
    """A named thing (account, CSM, file, model) does not exist."""


class AccessDenied(RetainError):
    """The asking CSM may not see the account they asked about."""


class AmbiguousName(RetainError):
    """A name matches several accounts closely; the candidates are listed."""

    def __init__(self, query: str, candidates: list[str]):
        self.query = query
        self.candidates = candidates
        super().__init__(
            f"'{query}' matches several accounts: {', '.join(candidates)}. "
            "Say which one you mean."
        )


class ImportValidationError(RetainError):
    """A CSV import had bad rows; nothing was written."""

    def __init__(self, problems: list[tuple[int, str]], total: int, unit: str = "line"):
        self.problems, self.unit = problems, unit
        shown = "; ".join(f"{unit} {line}: {why}" for line, why in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(
            f"{len(problems)} of {total} rows are bad, nothing was imported: {shown}{more}. "
            "Fix them, or re-run with --skip-bad to import the good rows."
        )


# userinfo up to the last "@" of the URL's text: a password may hold "/" or "@" (better to hide too much)
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s:@'\"]*):([^\s'\"]+)@")
_URL_TOKEN = re.compile(r"(?i)\b(xox[abposre]-|xapp-)[A-Za-z0-9-]+")
# A credential after Bearer/Basic has a digit, a symbol or mixed case ("Bearer authentication" is prose).
_BEARER = re.compile(r"\b([Bb]earer|BEARER|[Bb]asic|BASIC)(\s+)(?=\S*(?:[0-9._~+/=-]|[a-z][A-Z]))"
                     r"[A-Za-z0-9._~+/=!-]{8,}")
_VENDOR_TOKEN = re.compile(  # HubSpot private apps, OpenAI-style keys, GitHub, AWS access keys
    r"\b(pat-|sk-|ghp_|gho_|github_pat_|AKIA|rtn_)[A-Za-z0-9_-]{8,}")
_SF_SESSION = re.compile(r"\b(00D[A-Za-z0-9]{12,15}!)[A-Za-z0-9._]{8,}")  # Salesforce org id ! session token
_SECRET_PARAM = re.compile(r"(?i)([?&;\s](?:api[_-]?key|token|access_token|password|passwd|secret|key)=)[^&\s'\"]+")
_SECRET_NAMES = (r"bot_token|app_token|signing_secret|api[_-]?key|apikey|password|passwd|client_secret|secret|"
                 r"access_token|refresh_token|session_?id|authorization|private_key|token")
_SECRET_KV = re.compile(
    rf"(?i)(\b(?:{_SECRET_NAMES})['\"]?\s*[:=]\s*)"
    r"(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|[^\s'\",}]+)")


def _kv(m: re.Match[str]) -> str:
    value = m.group(2)
    if "***" in value or value.lower() in ("bearer", "basic"):  # already masked, or `_BEARER` masks what follows
        return m.group(0)
    quote = value[0] if value[:1] in "\"'" and len(value) > 1 else ""
    return f"{m.group(1)}{quote}***{quote}"


def mask_secrets(text: str) -> str:
    """Text with credentials hidden: URL passwords, tokens, keys, key=value and JSON secrets.

    `postgresql://retain:hunter2@db/crm` -> `postgresql://retain:***@db/crm`; `xoxb-123-abc` -> `xoxb-***`;
    `Bearer pat-na1-…` -> `Bearer ***`; `{"password": "p w"}` -> `{"password": "***"}`;
    `00Dxx…!AQ…` (a Salesforce session id) -> `00Dxx…!***`; `sk-…` -> `sk-***`.
    """
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{m.group(2)}:***@", str(text))
    text = _URL_TOKEN.sub(lambda m: f"{m.group(1)}***", text)
    text = _SF_SESSION.sub(lambda m: f"{m.group(1)}***", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    text = _VENDOR_TOKEN.sub(lambda m: f"{m.group(1)}***", text)
    text = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}***", text)
    return _SECRET_KV.sub(_kv, text)
