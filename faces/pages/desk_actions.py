"""Agent desk: what the copilot's buttons do (and the Send and Regenerate buttons, the same
wherever they show), and the draft options its controls set.

The actions run in button callbacks, before the script reruns, with the conversation version
this session last showed: a change made meanwhile by another window raises ``ConflictError``
and leaves a notice (and the unsent text) for the copilot panel to show.
"""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from copilot.desk.store import ConflictError
from copilot.types import DraftOptions
from faces.pages import ui
from knowledge import SouffleurError

S = st.session_state
TONES = ("auto", "formal", "casual")
LENGTHS = ("shorter", "normal", "longer")
EMOJI = {"auto": None, "on": True, "off": False}
DEFAULTS = {"tone": "auto", "length": "normal", "emoji": "auto"}  # of the controls below the draft


def _notice(kind: str, text: str, unsent: str | None = None) -> None:
    S["notice"] = (kind, text, unsent)


def _seen(cid: str) -> int:
    return int(S.get("seen", {}).get(cid, 0))


def on_send(ctx: ui.Context, cid: str, key: str) -> None:
    text = str(S.get(key) or "")
    try:
        ctx.desk.send(cid, text, agent=ctx.user.username, expected_version=_seen(cid))
    except ConflictError:
        _notice("conflict", ctx.t("conflict"), text)
    except SouffleurError as exc:
        _notice("error", str(exc))
    else:
        _notice("success", ctx.t("sent_ok"))


def on_escalate(ctx: ui.Context, cid: str) -> None:
    try:
        queue = ctx.desk.escalate(cid, agent=ctx.user.username, expected_version=_seen(cid))
    except ConflictError:
        _notice("conflict", ctx.t("conflict"))
    except SouffleurError as exc:
        _notice("error", str(exc))
    else:
        _notice("success", ctx.t("escalated_ok", queue=queue))


def on_discard(ctx: ui.Context, cid: str) -> None:
    ctx.desk.discard(cid, agent=ctx.user.username)
    _notice("info", ctx.t("discarded_ok"))


def on_regenerate(cid: str, *, new_wording: bool) -> None:
    if new_wording:
        variants = S.setdefault("variants", {})
        variants[cid] = variants.get(cid, 0) + 1
    S["regenerate"] = cid


def on_proposed(ctx: ui.Context, cid: str, draft_id: int, *, adopt: bool) -> None:
    ctx.desk.take_proposed(cid, draft_id, adopt=adopt)


def options(ctx: ui.Context, cid: str) -> DraftOptions:
    """The draft options the tone, length and emoji controls of this conversation set."""
    return DraftOptions(
        tone=S.get(f"tone_{cid}") or DEFAULTS["tone"],
        length=S.get(f"length_{cid}") or DEFAULTS["length"],
        emoji=EMOJI[S.get(f"emoji_{cid}") or DEFAULTS["emoji"]],
        variant=S.get("variants", {}).get(cid, 0),
        ui_lang="fr" if ctx.lang == "fr" else "en",
    )


def send_button(where: DeltaGenerator, ctx: ui.Context, cid: str, key: str, **style: Any) -> None:
    """Send: sends the text of the text area ``key``."""
    where.button(
        ctx.t("send"),
        key="send",
        icon=":material/send:",
        on_click=on_send,
        args=(ctx, cid, key),
        **style,
    )


def regenerate_button(where: DeltaGenerator, ctx: ui.Context, cid: str, **style: Any) -> None:
    """Regenerate: a new draft, in new words."""
    where.button(
        ctx.t("regenerate"),
        key="regenerate",
        icon=":material/refresh:",
        on_click=on_regenerate,
        args=(cid,),
        kwargs={"new_wording": True},
        **style,
    )
