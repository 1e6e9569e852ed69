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


_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/\s:@'\"]*):([^/\s@'\"]+)@")
_URL_TOKEN = re.compile(r"(?i)\b(xox[abposr]-|xapp-)[A-Za-z0-9-]+")
_SECRET_PARAM = re.compile(r"(?i)([?&;\s](?:api[_-]?key|token|access_token|password|passwd|secret|key)=)[^&\s'\"]+")
_SECRET_KV = re.compile(r"(?i)\b((?:bot_token|app_token|signing_secret|api_key|password|client_secret)\s*[:=]\s*)"
                        r"['\"]?[^\s'\",}]+")


def mask_secrets(text: str) -> str:
    """Text with credentials hidden: URL passwords, Slack tokens, key=value secrets.

    `postgresql://retain:hunter2@db/crm` -> `postgresql://retain:***@db/crm`; `xoxb-123-abc` -> `xoxb-***`.
    """
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{m.group(2)}:***@", str(text))
    text = _URL_TOKEN.sub(lambda m: f"{m.group(1)}***", text)
    text = _SECRET_PARAM.sub(lambda m: f"{m.group(1)}***", text)
    return _SECRET_KV.sub(lambda m: f"{m.group(1)}***", text)
