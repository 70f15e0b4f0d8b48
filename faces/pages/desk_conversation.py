"""Agent desk: the conversation (its messages, and what the customer says next) and the
customer card with their orders."""

from __future__ import annotations

import streamlit as st

from copilot.desk.desk import band
from copilot.desk.store import now
from faces.pages import ui
from faces.pages.ui import md_text as md
from knowledge import Customer, Order, SouffleurError

S = st.session_state
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


def conversation_panel(ctx: ui.Context, cid: str) -> None:
    t, desk = ctx.t, ctx.desk
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


def customer_card(
    ctx: ui.Context, customer: Customer | None, orders: list[Order], channel: str
) -> None:
    t = ctx.t
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
