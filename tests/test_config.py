from __future__ import annotations

import pytest

from copilot.config import endpoint_is_local, load_settings, redact_url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/v1",
        "http://localhost:11434/v1",
        "http://[::1]:8000/v1",
        "http://10.0.3.7/v1",
        "http://192.168.1.20:8000/v1",
        "http://172.20.0.5/v1",
    ],
)
def test_loopback_and_private_addresses_are_local(url: str) -> None:
    assert endpoint_is_local(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.attacker.example/v1",  # a public name that starts like loopback
        "https://localhost.attacker.example/v1",
        "https://api.openai.com/v1",
        "http://8.8.8.8/v1",
        "http://[2001:4860::8888]/v1",
        "not a url",
        None,
    ],
)
def test_public_hosts_are_not_local(url: str | None) -> None:
    assert not endpoint_is_local(url)


def test_auto_masking_follows_the_parsed_host() -> None:
    public = load_settings(llm_base_url="https://127.attacker.example/v1", mask_pii="auto")
    assert public.masks_pii
    assert not load_settings(llm_base_url="http://127.0.0.1:9/v1", mask_pii="auto").masks_pii


def test_secrets_in_urls_are_redacted() -> None:
    assert redact_url("https://u:pw@h.example/v1") == "https://***@h.example/v1"
    assert redact_url("postgresql+psycopg://app:pw@db/souffleur") == (
        "postgresql+psycopg://***@db/souffleur"
    )
    assert redact_url("http://h.example/v1?x=@") == "http://h.example/v1?x=@"
    described = load_settings(llm_base_url="https://u:pw@h.example/v1").describe()
    assert "pw" not in str(described["llm_base_url"])
