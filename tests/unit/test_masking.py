"""Issue 29 item 5: every credential shape a CRM, an LLM server or a database URL can put in an error is masked."""

import pytest

from core.errors import mask_secrets

HUBSPOT = "pat-na1-5f3c9a2e-1b7d-4c8e-9f00-0123456789ab"
SF_SESSION = "00D5g000004XyzAB!AQ4AQNvJ.Z9sQ_abcDEF1234567890ghIJ"
OPENAI = "sk-proj-AbCdEf1234567890xyzXYZ"


@pytest.mark.parametrize("text,secret", [
    (f"HubSpot refused (401: Got Authorization: Bearer {HUBSPOT})", HUBSPOT),
    (f"token {HUBSPOT} is expired", HUBSPOT),
    (f"INVALID_SESSION_ID: Session expired or invalid {SF_SESSION}", "AQ4AQNvJ.Z9sQ_abcDEF1234567890ghIJ"),
    (f"llm said: Incorrect API key provided: {OPENAI}", OPENAI),
    ('{"username": "retain", "password": "hunter 2 and more", "x": 1}', "hunter 2 and more"),
    ("{'password': 'se cret'}", "se cret"),
    ('{"access_token": "ya29.a0AfH6SMBx", "ok": true}', "ya29.a0AfH6SMBx"),
    ("postgresql://retain:pa/ss@w0rd@db.example:5432/crm is down", "pa/ss@w0rd"),
    ("mysql://u:a/b/c@db/x", "a/b/c"),
    ("Authorization: Basic cmV0YWluOmh1bnRlcjI=", "cmV0YWluOmh1bnRlcjI="),
    ("token xoxb-123-abc", "123-abc"),
])
def test_every_credential_shape_is_masked(text, secret):
    masked = mask_secrets(text)
    assert secret not in masked and "***" in masked
    assert mask_secrets(masked) == masked  # masking twice changes nothing


@pytest.mark.parametrize("text", [
    "Bearer authentication failed; check the token", "https://example.com/a/b?x=1", "http://host:8080/path",
    "the password is wrong", "pat-down", "risk-free", "00D is an org id prefix", "Basic Authentication required",
])
def test_plain_text_is_left_alone(text):
    assert mask_secrets(text) == text


def test_masked_shapes_keep_what_helps_debugging():
    assert mask_secrets("postgresql://retain:p/w@db/crm") == "postgresql://retain:***@db/crm"
    assert mask_secrets(f"Bearer {HUBSPOT}") == "Bearer ***"
    assert mask_secrets(SF_SESSION) == "00D5g000004XyzAB!***"  # the org id stays: it names the org, no access
    assert mask_secrets('{"password": "x y"}') == '{"password": "***"}'
