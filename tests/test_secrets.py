"""Credentials from the environment and the redactor: what is masked, what is left alone, what is refused."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dro_cli.runtime.handlers import Outcome
from dro_cli.runtime.handlers.secrets import (
    MIN_SECRET_LENGTH,
    InsecureSecret,
    MissingEnv,
    Redactor,
    auth_headers,
    resolve,
    secret_values,
)

TOKEN = "tok-5ecret-42"


def test_resolve_prefers_the_environment_then_the_default() -> None:
    assert resolve("literal", {}, "w") == "literal"
    assert resolve({"env": "A", "default": "d"}, {"A": "set"}, "w") == "set"
    assert resolve({"env": "A", "default": "d"}, {}, "w") == "d"
    assert resolve({"env": "A", "default": "d"}, {"A": ""}, "w") == "d"  # empty counts as unset
    assert resolve({"env": None, "default": "http://x"}, {}, "w") == "http://x"
    with pytest.raises(MissingEnv, match=r"^environment variable A is not set \(endpoint wms, auth\)$"):
        resolve({"env": "A"}, {"B": "b"}, "endpoint wms, auth")


def test_auth_headers_for_every_form() -> None:
    environ = {"T": TOKEN, "U": "u", "P": "pass-word", "K": "key-12345"}
    assert auth_headers("e", None, environ) == {}
    assert auth_headers("e", {"bearer": {"env": "T"}}, environ) == {"Authorization": f"Bearer {TOKEN}"}
    assert auth_headers("e", {"basic": {"username": {"env": "U"}, "password": {"env": "P"}}}, environ) == {
        "Authorization": "Basic " + base64.b64encode(b"u:pass-word").decode()}  # a short username is fine
    assert auth_headers("e", {"header": {"name": "X-Key", "value": {"env": "K"}}}, environ) == {"X-Key": "key-12345"}
    with pytest.raises(MissingEnv, match="variable P is not set"):
        auth_headers("e", {"basic": {"username": "u", "password": {"env": "P"}}}, {})


@pytest.mark.parametrize("auth", [{"bearer": {"env": "S"}}, {"basic": {"username": "user", "password": {"env": "S"}}},
                                  {"header": {"name": "X-Key", "value": {"env": "S"}}}])
def test_a_credential_too_short_to_mask_is_refused_without_showing_it(auth: dict[str, object]) -> None:
    short = "e" * (MIN_SECRET_LENGTH - 1)
    with pytest.raises(InsecureSecret) as refused:
        auth_headers("carrier", auth, {"S": short})
    message = str(refused.value)
    assert message.startswith("environment variable S (endpoint carrier, auth) holds a credential of 7 characters;")
    assert short not in message
    assert auth_headers("carrier", auth, {"S": short + "e"})  # 8 will do


def test_secret_values_are_the_credentials_read_from_the_environment() -> None:
    endpoints = {
        "a": {"auth": {"bearer": {"env": "T"}}, "url": {"env": "A_URL", "default": None}},
        "b": {"auth": {"basic": {"username": "literal-user", "password": {"env": "P"}}}},
        "c": {"auth": {"header": {"name": "X", "value": {"env": "UNSET"}}}},
        "d": {"auth": None},
        "e": {"auth": {"basic": {"username": {"env": "U", "default": "default-user"}, "password": {"env": "Q"}}}},
        "f": {"auth": {"bearer": {"env": "SHORT"}}},
    }
    environ = {"T": TOKEN, "P": "pass-word", "A_URL": "http://a", "Q": "second-password", "SHORT": "e"}
    token_b = base64.b64encode(b"literal-user:pass-word").decode()
    token_e = base64.b64encode(b"default-user:second-password").decode()
    # Neither a literal username nor an env() default is a secret; a value too short to mask is none either.
    assert secret_values(endpoints, environ) == {TOKEN, "pass-word", token_b, "second-password", token_e}
    assert "service-account" in secret_values(endpoints, {**environ, "U": "service-account"})
    assert "bob" not in secret_values(endpoints, {**environ, "U": "bob"})


def test_the_redactor_masks_texts_and_outputs_recursively() -> None:
    redactor = Redactor(["tok-1-secret", 'q"uote-secret'])
    assert redactor.text("a tok-1-secret b tok-1-secret") == "a *** b ***"
    assert redactor.text(json.dumps({"v": 'q"uote-secret'})) == '{"v": "***"}'
    assert redactor.text("url?t=q%22uote-secret&x=1") == "url?t=***&x=1"
    outcome = Outcome({"tok-1-secret": ["x tok-1-secret", {"n": 1, "deep": ("tok-1-secret",)}]}, "http_500",
                      "saw tok-1-secret", False)
    assert redactor.outcome(outcome) == Outcome({"***": ["x ***", {"n": 1, "deep": ["***"]}]}, "http_500",
                                                "saw ***", False)
    assert Redactor([]).outcome(outcome) is outcome


def test_only_whole_occurrences_are_masked() -> None:
    redactor = Redactor(["example1", "Zm9vOmJhcg=="])
    assert redactor.text("https://api.example1.com/v1") == "https://api.***.com/v1"
    assert redactor.text("counterexample1 example12 example1") == "counterexample1 example12 ***"
    assert redactor.text("Authorization: Basic Zm9vOmJhcg==") == "Authorization: Basic ***"
    # An escape before the secret separates it, though it ends in a letter or a digit.
    assert redactor.text("a%20example1 b\\nexample1 c\\u00e9example1") == "a%20*** b\\n*** c\\u00e9***"
    # Two secrets run together are masked as one.
    assert Redactor(["first-secret", "second-secret"]).text("x first-secretsecond-secret.") == "x ***."
    assert Redactor(["abcd-efgh", "abcd-efgh-ijkl"]).text("abcd-efgh-ijkl") == "***"


def test_a_short_credential_never_garbles_text() -> None:
    text = "POST https://api.parcel-carrier.example.com/v1/shipments: connection refused"
    assert Redactor(["e", "p", "ab", "e" * (MIN_SECRET_LENGTH - 1)]).text(text) == text
    assert not Redactor(["e"])


_SECRET = st.text("abcdef0123-_.~", min_size=MIN_SECRET_LENGTH, max_size=20)
_FILLER = st.text("ghijklmnopqrstuvwxyz GHIJK", max_size=12)
_SEPARATOR = st.sampled_from([" ", "/", ":", "=", "&", '"', "'", ",", "%20", "\\n", "\n", ""])


@given(secrets=st.lists(_SECRET, min_size=1, max_size=3), pieces=st.lists(st.tuples(_FILLER, _SEPARATOR), max_size=6))
def test_no_whole_secret_survives_redaction(secrets: list[str], pieces: list[tuple[str, str]]) -> None:
    parts = []
    for i, (filler, separator) in enumerate(pieces):
        parts += [filler, " ", separator, secrets[i % len(secrets)], " "]
    text = "".join(parts) + "".join(secrets)  # the secrets run together at the end, too
    redacted = Redactor(secrets).value([[text]])  # (a key could be a secret itself)
    assert not any(secret in redacted[0][0] for secret in secrets)


@given(secrets=st.lists(st.text(min_size=1, max_size=12), max_size=3), text=st.text(max_size=80))
def test_text_without_a_secret_is_never_changed(secrets: list[str], text: str) -> None:
    assume(not any(secret in text for secret in secrets if len(secret) >= MIN_SECRET_LENGTH))
    assume(not any(json.dumps(secret)[1:-1] in text for secret in secrets if len(secret) >= MIN_SECRET_LENGTH))
    assert Redactor(secrets).text(text) == text


@given(secret=st.text("abcdef", min_size=MIN_SECRET_LENGTH, max_size=20), before=st.text("0123456789 ", max_size=40),
       after=st.text("0123456789 ", max_size=40), limit=st.integers(1, 80))
def test_an_excerpt_never_cuts_a_secret_in_half(secret: str, before: str, after: str, limit: int) -> None:
    excerpt = Redactor([secret]).excerpt(f"{before} {secret} {after}", limit)
    assert set(excerpt) <= set(before + after + " *.")
