"""Agent desk: the inbox, the conversation and the customer card; the copilot in the sidebar.

Every action is a :class:`copilot.desk.desk.Desk` call. Actions run in button callbacks, before
the script reruns, with the conversation version this session last showed: a change made
meanwhile by another window raises ``ConflictError`` and shows a notice instead of
overwriting it. The draft being edited is autosaved at every rerun.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from copilot.desk.desk import InboxRow, band
from copilot.desk.store import ConflictError, DraftRecord, now
from copilot.types import DraftOptions
from faces.pages import ui
from faces.pages.ui import md_text as md
from knowledge import Customer, Order, SouffleurError

ctx = ui.context()
t, desk, S = ctx.t, ctx.desk, st.session_state
CHANNELS = ("web", "whatsapp", "messenger", "sms", "email")
ROLE_AVATARS = {
    "customer": ("user", ":material/person:"),
    "agent": ("assistant", ":material/support_agent:"),
}
STATUS_COLORS: dict[str, ui.BadgeColor] = {
    "delivered": "green",
    "shipped": "blue",
    "in_transit": "blue",
    "processing": "gray",
    "pending": "gray",
    "delayed": "orange",
    "lost": "red",
    "cancelled": "gray",
    "refunded": "violet",
    "returned": "violet",
}
STATUS_FR = {
    "delivered": "livrée",
    "shipped": "expédiée",
    "in_transit": "en transit",
    "processing": "en préparation",
    "pending": "en attente",
    "delayed": "retardée",
    "lost": "perdue",
    "cancelled": "annulée",
    "refunded": "remboursée",
    "returned": "retournée",
}
TONES = ("auto", "formal", "casual")
LENGTHS = ("shorter", "normal", "longer")
EMOJI = {"auto": None, "on": True, "off": False}


# -- actions (button callbacks: they run before the rerun) ---------------------------
def _notice(kind: str, text: str, unsent: str | None = None) -> None:
    S["notice"] = (kind, text, unsent)


def _seen(cid: str) -> int:
    return int(S.get("seen", {}).get(cid, 0))


def on_send(cid: str, key: str) -> None:
    text = str(S.get(key) or "")
    try:
        desk.send(cid, text, agent=ctx.user.username, expected_version=_seen(cid))
    except ConflictError:
        _notice("conflict", t("conflict"), text)
    except SouffleurError as exc:
        _notice("error", str(exc))
    else:
        _notice("success", t("sent_ok"))


def on_escalate(cid: str) -> None:
    try:
        queue = desk.escalate(cid, agent=ctx.user.username, expected_version=_seen(cid))
    except ConflictError:
        _notice("conflict", t("conflict"))
    except SouffleurError as exc:
        _notice("error", str(exc))
    else:
        _notice("success", t("escalated_ok", queue=queue))


def on_discard(cid: str) -> None:
    desk.discard(cid, agent=ctx.user.username)
    _notice("info", t("discarded_ok"))


def on_regenerate(cid: str, *, new_wording: bool) -> None:
    if new_wording:
        variants = S.setdefault("variants", {})
        variants[cid] = variants.get(cid, 0) + 1
    S["regenerate"] = cid


def on_proposed(cid: str, draft_id: int, *, adopt: bool) -> None:
    desk.take_proposed(cid, draft_id, adopt=adopt)


@st.fragment(run_every=1.0)
def late_model_watch(cid: str) -> None:
    """While the model is still drafting, say so; once its draft has landed, redraw the page."""
    if desk.drafting_late(cid):
        st.caption(t("model_drafting"), help=None)
    else:
        st.rerun()


def options(cid: str) -> DraftOptions:
    return DraftOptions(
        tone=S.get(f"tone_{cid}") or "auto",
        length=S.get(f"length_{cid}") or "normal",
        emoji=EMOJI[S.get(f"emoji_{cid}") or "auto"],
        variant=S.get("variants", {}).get(cid, 0),
        ui_lang="fr" if ctx.lang == "fr" else "en",
    )


# -- the inbox (refreshed every 10 s so the waiting timers move) ---------------------
def _inbox_rows() -> list[InboxRow]:
    return desk.inbox(waiting_only=not S.get("show_answered", False))


@st.fragment(run_every=10)
def inbox_head() -> None:
    head = st.container(horizontal=True, vertical_alignment="center")
    head.subheader(t("inbox"))
    head.badge(t("open_count", n=len(_inbox_rows())), color="gray")  # counted at each refresh


@st.fragment(run_every=10)
def inbox_panel() -> None:
    rows = _inbox_rows()
    if not rows:
        st.info(t("inbox_empty"))
        return
    with st.container(height=620, border=False):
        for row in rows:
            selected = row.conversation_id == S.get("conversation")
            with st.container(border=True, gap="xsmall"):
                top = st.container(horizontal=True, vertical_alignment="center", gap="small")
                top.badge(
                    ui.fmt_wait(row.waiting_s, t),
                    color=ui.BAND_COLORS.get(row.band, "gray"),
                    icon=":material/schedule:",
                )
                clicked = top.button(
                    md(row.customer_name),
                    key=f"open_{row.conversation_id}",
                    type="primary" if selected else "tertiary",
                    help=row.conversation_id,
                )
                st.caption(f"{md(row.channel)} · {md(row.preview)}")
            if clicked:
                S["conversation"] = row.conversation_id
                st.rerun()


def new_conversation() -> None:
    with (
        st.popover(t("new_conversation"), icon=":material/add_comment:", width="stretch"),
        st.form("new_conversation", border=False),
    ):
        customers = {c.customer_id: c for c in ctx.ws.orders.customers()}
        customer_id = st.selectbox(
            t("customer"),
            [None, *customers],
            format_func=lambda c: t("visitor") if c is None else f"{customers[c].name} ({c})",
            key="new_customer",
        )
        channel = st.selectbox(t("channel"), CHANNELS, key="new_channel")
        text = st.text_area(t("first_message"), key="new_text", height=100)
        if st.form_submit_button(t("start"), type="primary"):
            if not str(text or "").strip():
                st.error(t("first_message") + " ?")
                return
            S["conversation"] = desk.new_conversation(customer_id, str(text), channel=channel)
            st.rerun()


# -- the conversation ----------------------------------------------------------------
def conversation_panel(cid: str) -> None:
    view = desk.view(cid)
    rec = view.conversation
    S.setdefault("seen", {})[cid] = rec.version
    name = view.customer.name if view.customer else t("visitor")
    head = st.container(horizontal=True, vertical_alignment="center")
    head.subheader(md(name))
    head.badge(md(rec.channel), color="blue", icon=":material/forum:")
    if rec.status == "escalated":
        head.badge(
            md(t("status_escalated", queue=rec.queue or "?")),
            color="red",
            icon=":material/call_split:",
        )
    else:
        waiting = (now() - rec.waiting_since).total_seconds() if rec.waiting_since else None
        head.badge(
            ui.fmt_wait(waiting, t), color=ui.BAND_COLORS[band(waiting)], icon=":material/schedule:"
        )
    with st.container(height=430, border=True, autoscroll=True):
        for m in rec.messages:
            if m.role == "system":
                with st.chat_message("system", avatar=":material/call_split:"):
                    st.caption(md(m.text))
                continue
            who, avatar = ROLE_AVATARS.get(m.role, ("user", None))
            with st.chat_message(who, avatar=avatar):
                st.markdown(md(m.text))
                st.caption(
                    f"{m.created_at:%d/%m %H:%M}" + (f" · {md(m.author)}" if m.author else "")
                )
    with st.form("customer_says", clear_on_submit=True, border=False):
        said = st.text_area(
            t("customer_says"), key="customer_says_text", height=68, help=t("customer_says_help")
        )
        if st.form_submit_button(t("post_customer"), icon=":material/person:"):
            try:
                desk.post_customer_message(cid, str(said or ""))
            except SouffleurError as exc:
                st.error(str(exc))
            else:
                st.rerun()


def customer_card(customer: Customer | None, orders: list[Order], channel: str) -> None:
    with st.container(border=True):
        st.markdown(f"**{md(customer.name)}**" if customer else f"**{t('visitor')}**")
        if customer is None:
            st.caption(md(channel))
            return
        facts = [
            customer.customer_id,
            ui.LANG_NAMES[ctx.lang].get(customer.lang or "", customer.lang or "?"),
        ]
        if customer.city:
            facts.append(
                f"{customer.city}, {customer.country}" if customer.country else customer.city
            )
        st.caption(md(" · ".join(facts)))
        contact = " · ".join(x for x in (customer.email, customer.phone) if x)
        if contact:
            st.caption(md(contact))
        st.markdown(f"**{t('orders')}** ({len(orders)})")
        if not orders:
            st.caption(t("no_orders"))
        for o in sorted(orders, key=lambda o: o.created_at, reverse=True)[:6]:
            with st.container(border=True, gap="xsmall"):
                top = st.container(horizontal=True, vertical_alignment="center", gap="small")
                top.markdown(f"**{md(o.order_number)}**")
                status = (
                    STATUS_FR.get(o.status, o.status)
                    if ctx.lang == "fr"
                    else o.status.replace("_", " ")
                )
                top.badge(md(status), color=STATUS_COLORS.get(o.status, "gray"))
                items = ", ".join(f"{i.quantity}× {i.name}" for i in o.items)
                total = f" — {o.total:.2f} {o.currency}" if o.total is not None else ""
                st.caption(md(f"{o.created_at:%d/%m/%Y} · {items}{total}"))
                ship = []
                if o.carrier:
                    ship.append(o.carrier)
                if o.tracking_number:
                    ship.append(f"{t('tracking')} {o.tracking_number}")
                if o.delivered_at:
                    ship.append(f"{t('delivered')} {o.delivered_at:%d/%m}")
                elif o.estimated_delivery:
                    ship.append(f"{t('eta')} {o.estimated_delivery:%d/%m}")
                if ship:
                    st.caption(md(" · ".join(ship)))


# -- the copilot (sidebar) -----------------------------------------------------------
def copilot_panel(cid: str) -> None:
    notice = S.pop("notice", None)
    if notice:
        kind, text, unsent = notice
        {"success": st.success, "info": st.info, "error": st.error}.get(kind, st.warning)(md(text))
        if unsent:
            with st.expander(t("unsent"), expanded=True):
                st.code(unsent, language=None, wrap_lines=True)
    view = desk.view(cid)
    rec = view.conversation
    stream = st.empty()

    def show_stream(text: str) -> None:  # the reply so far, while an LLM streams it
        stream.text(text)

    discarded = desk.discarded(cid)
    draft: DraftRecord | None
    if S.get("regenerate") == cid:
        S.pop("regenerate")
        with st.spinner(t("drafting")):
            draft = desk.regenerate(cid, options(cid), on_delta=show_stream)
    elif rec.status == "open" and not discarded:
        with st.spinner(t("drafting")):
            draft = desk.ensure_draft(cid, options(cid), on_delta=show_stream)
    else:
        draft = view.draft
    stream.empty()
    if draft is None:
        last = rec.messages[-1] if rec.messages else None
        if discarded and last is not None:
            st.info(t("discarded_note"))
            key = f"reply_{cid}_{last.id}"
            st.text_area(t("your_reply"), key=key, height=200)
            row = st.container(horizontal=True)
            row.button(
                t("send"),
                key="send",
                type="primary",
                icon=":material/send:",
                on_click=on_send,
                args=(cid, key),
            )
            row.button(
                t("regenerate"),
                key="regenerate",
                icon=":material/refresh:",
                on_click=on_regenerate,
                args=(cid,),
                kwargs={"new_wording": True},
            )
        elif rec.status != "escalated":
            st.caption(t("no_draft"))
        next_up = next(
            (
                r.conversation_id
                for r in desk.inbox()
                if r.waiting_s is not None and r.conversation_id != cid
            ),
            None,
        )
        if next_up:
            st.button(
                t("next_conversation"),
                key="next",
                icon=":material/arrow_forward:",
                on_click=S.__setitem__,
                args=("conversation", next_up),
            )
        return
    suggestion_panel(cid, draft)


def suggestion_panel(cid: str, draft: DraftRecord) -> None:
    sug = draft.suggestion
    esc = sug.escalation
    badges = st.container(horizontal=True, gap="small")
    if esc.escalate:
        badges.badge(
            md(t("escalate_to", queue=esc.queue or "?")),
            color="red",
            icon=":material/priority_high:",
        )
    else:
        badges.badge(t("no_escalation"), color="green", icon=":material/check_circle:")
    badges.badge(
        t("needs_review") if sug.needs_review else t("could_send"),
        color="orange" if sug.needs_review else "green",
    )
    badges.badge(t("confidence", p=f"{sug.confidence:.0%}").replace("%", "\\%"), color="gray")
    drafter = t("offline_drafter") if sug.drafter == "offline" else sug.model
    st.caption(
        md(
            f"{ui.LANG_NAMES[ctx.lang].get(sug.language, sug.language)} · {sug.register_} · {drafter}"
        )
    )
    if sug.llm_unavailable:
        st.warning(t("llm_unavailable"))
    if desk.drafting_late(cid):
        late_model_watch(cid)
    proposed = desk.proposed(cid)
    if proposed is not None:
        st.info(t("model_ready"))
        with st.expander(t("use_model_draft"), icon=":material/auto_awesome:"):
            st.caption(md(proposed.draft_text))
        choice = st.container(horizontal=True, gap="small")
        choice.button(
            t("use_model_draft"),
            key="use_model_draft",
            on_click=on_proposed,
            args=(cid, proposed.id),
            kwargs={"adopt": True},
        )
        choice.button(
            t("keep_mine"),
            key="keep_mine",
            type="tertiary",
            on_click=on_proposed,
            args=(cid, proposed.id),
            kwargs={"adopt": False},
        )
    if sug.needs_review and not esc.escalate:
        for hint in sug.review_hints:
            st.caption(md(hint), help=t("review_hint_help"))

    key = f"draft_{draft.id}"
    text = st.text_area(t("draft"), value=draft.edited_text, key=key, height=260)
    desk.store.autosave(
        draft.id, str(text or "")
    )  # every rerun: a reload or a restart keeps the edit

    # Fixed places for muscle memory; the action the copilot recommends is the primary one.
    main_actions = st.container(horizontal=True, gap="small")
    main_actions.button(
        t("send"),
        key="send",
        type="secondary" if esc.escalate else "primary",
        icon=":material/send:",
        width="stretch",
        on_click=on_send,
        args=(cid, key),
    )
    main_actions.button(
        t("escalate"),
        key="escalate",
        type="primary" if esc.escalate else "secondary",
        icon=":material/call_split:",
        width="stretch",
        on_click=on_escalate,
        args=(cid,),
    )
    more = st.container(horizontal=True, gap="small")
    more.button(
        t("regenerate"),
        key="regenerate",
        icon=":material/refresh:",
        type="tertiary",
        on_click=on_regenerate,
        args=(cid,),
        kwargs={"new_wording": True},
    )
    more.button(
        t("discard"),
        key="discard",
        icon=":material/delete:",
        type="tertiary",
        on_click=on_discard,
        args=(cid,),
    )

    with st.expander(t("tone"), icon=":material/tune:"):
        regen: dict[str, Any] = {
            "on_change": on_regenerate,
            "args": (cid,),
            "kwargs": {"new_wording": False},
        }
        st.segmented_control(
            t("tone"),
            TONES,
            format_func=t,
            key=f"tone_{cid}",
            default="auto",
            required=True,
            **regen,
        )
        st.segmented_control(
            t("length"),
            LENGTHS,
            format_func=t,
            key=f"length_{cid}",
            default="normal",
            required=True,
            **regen,
        )
        st.segmented_control(
            t("emoji"),
            tuple(EMOJI),
            format_func=t,
            key=f"emoji_{cid}",
            default="auto",
            required=True,
            **regen,
        )

    if esc.escalate:
        with st.expander(t("why_escalate"), icon=":material/priority_high:", expanded=True):
            for r in esc.reasons:
                st.markdown(f"- **{md(r.label)}**" + (f" — {md(r.detail)}" if r.detail else ""))
            if esc.handoff_summary:
                st.markdown(f"**{t('handoff')}**")
                st.caption(md(esc.handoff_summary))

    st.markdown(f"**{t('sources', n=len(sug.citations))}**")
    if not sug.citations:
        st.caption(t("no_sources"))
    for i, c in enumerate(sug.citations, 1):
        title = " · ".join(dict.fromkeys(c.titles)) or ", ".join(c.doc_ids)
        with st.expander(f"[{i}] {md(title)}", icon=":material/menu_book:"):
            st.caption(f"{t('supports')}: {md(c.sentence)}")
            for snippet in c.snippets:
                st.markdown(f"> {md(snippet)}")
            for url in dict.fromkeys(u for u in c.urls if ui.safe_url(u)):
                st.markdown(f"[{t('open_source')}]({url})")
    for note in sug.notes:
        st.caption(md(note))


# -- layout --------------------------------------------------------------------------
rows = _inbox_rows()
cid = S.get("conversation")
if not cid or not desk.store.exists(cid):
    cid = rows[0].conversation_id if rows else None
    S["conversation"] = cid

left, main, right = st.columns([1.05, 2.0, 1.15], gap="medium")
with left:
    inbox_head()
    # outside the refreshing fragments, so a half-typed message is never redrawn
    new_conversation()
    st.toggle(t("show_answered"), key="show_answered")
    inbox_panel()
if cid is None:
    main.info(t("select_conversation"))
else:
    with main:
        conversation_panel(cid)
    with right:
        view = desk.view(cid)
        customer_card(view.customer, view.orders, view.conversation.channel)
with st.sidebar:
    st.header(t("copilot"), divider="violet")
    if cid is None:
        st.caption(t("select_conversation"))
    else:
        copilot_panel(cid)
