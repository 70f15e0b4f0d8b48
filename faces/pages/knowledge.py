"""Knowledge (knowledge managers): documents, hit testing, the order feed, the escalation
policy and knowledge gaps. Every action is a call into ``knowledge`` or ``copilot``."""

from __future__ import annotations

import math
from collections import Counter

import pandas as pd
import streamlit as st

from copilot.desk.desk import Gap
from copilot.desk.faqdrafts import FaqDrafts, article_from_gap
from copilot.pipeline.escalation import PolicyError
from faces.pages import ui
from faces.pages.ui import md_text as md
from knowledge import FileResult, ImportReport, SouffleurError, supported_extensions
from knowledge.conflicts import StoredConflict, UploadCheck, check_upload
from knowledge.retrieval import Mode

ctx = ui.context()
t, S = ctx.t, st.session_state
fr = ctx.lang == "fr"
ws = ctx.ws
kb = ws.kb
MODES: dict[str, Mode] = {"hybrid": "hybrid", "dense": "dense", "bm25": "bm25"}
EXTS = sorted({e.lstrip(".") for e in supported_extensions()})


# -- actions -------------------------------------------------------------------------
def ingest(sources: list[tuple[str, bytes]]) -> list[FileResult]:
    """Index uploaded files with a progress bar; the results stay on screen until the next upload."""
    bar = st.progress(0.0, text=t("knowledge_reading_files"))

    def progress(done: int, total: int, name: str) -> None:
        label = t("knowledge_indexing") if name == "indexing" else f"{done + 1}/{total} · {name}"
        bar.progress(min(done / max(total, 1), 1.0), text=md(label))

    results = kb.ingest_sources([(name, data) for name, data in sources], progress=progress)
    bar.progress(1.0, text=t("knowledge_checking_conflicts"))
    S["ingest_conflicts"] = check_upload(kb, results)
    bar.progress(1.0, text=t("knowledge_done"))
    S["ingest_results"] = results
    return results


def show_results(results: list[FileResult]) -> None:
    for r in results:
        if not r.ok:
            st.error(md(r.error or "?"), icon=":material/error:")
            continue
        statuses = Counter(d.status for d in r.docs)
        summary = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
        langs = ", ".join(sorted({d.lang for d in r.docs if d.lang})) or "–"
        st.success(
            md(
                t(
                    "knowledge_upload_result",
                    name=r.name,
                    summary=summary,
                    chunks=r.chunks,
                    langs=langs,
                )
            ),
            icon=":material/check_circle:",
        )
        for note in r.notes:
            st.warning(md(f"{r.name}: {note}"), icon=":material/info:")
    check: UploadCheck | None = S.get("ingest_conflicts")
    found = check.open if check else []
    if check and check.unchecked_within:
        st.info(md(t("knowledge_unchecked_within", n=check.unchecked_within)))
    if found:
        st.warning(
            md(t("knowledge_possible_conflicts", n=len(found))),
            icon=":material/compare_arrows:",
        )


def decide_conflict(conflict_id: int) -> None:
    keep = str(S.get(f"conflict_keep_{conflict_id}") or "")
    try:
        c = kb.conflicts.decide(
            conflict_id,
            keep,
            new_scope=str(S.get(f"conflict_scope_new_{conflict_id}") or ""),
            old_scope=str(S.get(f"conflict_scope_old_{conflict_id}") or ""),
            actor=ctx.user.username,
        )
    except SouffleurError as exc:
        S["conflict_notice"] = ("error", str(exc))
        return
    S["conflict_notice"] = ("success", f"#{c.id}: {decision(c)}.")


def decision(c: StoredConflict) -> str:
    """A decided pair's decision, as the page says it."""
    return {
        "kept_new": t("knowledge_kept", title=c.new_title),
        "kept_old": t("knowledge_kept", title=c.old_title),
        "kept_both": t(
            "knowledge_kept_both",
            new_value=c.new_value,
            new_scope=c.new_scope,
            old_value=c.old_value,
            old_scope=c.old_scope,
        ),
    }[c.status]


def reopen_conflict(conflict_id: int) -> None:
    try:
        kb.conflicts.reopen(conflict_id)
    except SouffleurError as exc:
        S["conflict_notice"] = ("error", str(exc))
    else:
        S["conflict_notice"] = (
            "success",
            t("knowledge_reopened", conflict_id=conflict_id),
        )


def show_conflict(c: StoredConflict) -> None:
    """Both statements side by side, and the decision."""
    with st.container(border=True):
        new, old = st.columns(2)
        new.markdown(
            md(f"**{t('knowledge_conflict_new')} · {c.new_title}** — {c.new_value}")
            + "\n\n> "
            + md(c.new_sentence)
        )
        old.markdown(
            md(f"**{t('knowledge_conflict_existing')} · {c.old_title}** — {c.old_value}")
            + "\n\n> "
            + md(c.old_sentence)
        )
        if not c.is_open:
            by = f" ({c.decided_by})" if c.decided_by else ""
            st.caption(md(f"#{c.id}: {decision(c)}{by}"))
            st.button(
                t("knowledge_reopen"),
                key=f"conflict_reopen_{c.id}",
                on_click=reopen_conflict,
                args=(c.id,),
            )
            return
        keep = st.radio(
            t("knowledge_drafts_should_use"),
            ["new", "old", "both"],
            format_func=lambda k: {
                "new": t("knowledge_keep_one", value=c.new_value, title=c.new_title),
                "old": t("knowledge_keep_one", value=c.old_value, title=c.old_title),
                "both": t("knowledge_keep_both"),
            }[k],
            key=f"conflict_keep_{c.id}",
            horizontal=True,
        )
        if keep == "both":
            a, b = st.columns(2)
            a.text_input(
                t("knowledge_holds_for", value=c.new_value),
                key=f"conflict_scope_new_{c.id}",
                placeholder=t("knowledge_scope_new_placeholder"),
            )
            b.text_input(
                t("knowledge_holds_for", value=c.old_value),
                key=f"conflict_scope_old_{c.id}",
                placeholder=t("knowledge_scope_old_placeholder"),
            )
        st.button(
            t("knowledge_decide"),
            key=f"conflict_decide_{c.id}",
            type="primary",
            on_click=decide_conflict,
            args=(c.id,),
        )


def conflicts_section() -> None:
    kb.conflicts.prune(kb)
    everything = kb.conflicts.all()
    open_ = [c for c in everything if c.is_open]
    decided = [c for c in everything if c.status.startswith("kept_")]
    if not open_ and not decided:
        return
    st.subheader(t("knowledge_conflicts_title"))
    notice = S.pop("conflict_notice", None)
    if notice:
        (st.success if notice[0] == "success" else st.error)(md(notice[1]))
    if open_:
        st.caption(t("knowledge_conflicts_to_decide", n=len(open_)))
    for c in open_:
        show_conflict(c)
    if decided:
        with st.expander(t("knowledge_decided", n=len(decided))):
            for c in decided:
                show_conflict(c)


def save_policy() -> None:
    try:
        policy = ws.policies.save(str(S.get("policy_text") or ""), author=ctx.user.username)
    except PolicyError as exc:
        S["policy_notice"] = ("error", str(exc))
    else:
        S["policy_notice"] = (
            "success",
            t("knowledge_policy_saved", triggers=len(policy.model.triggers)),
        )


def revert_policy() -> None:
    S["policy_text"] = ws.policies.text()
    S.pop("policy_notice", None)


def restore_policy() -> None:
    version = int(S.get("policy_version") or 0)
    try:
        policy = ws.policies.restore(version, author=ctx.user.username)
    except SouffleurError as exc:
        S["policy_notice"] = ("error", str(exc))
        return
    S["policy_text"] = ws.policies.text()
    S["policy_notice"] = (
        "success",
        t("knowledge_policy_restored", version=version, triggers=len(policy.model.triggers)),
    )


def delete_document() -> None:
    doc_id = str(S.get("doc_pick") or "")  # read at click time, not when the button was drawn
    S["doc_notice"] = (
        ("success", t("knowledge_doc_deleted", doc_id=doc_id))
        if kb.delete(doc_id)
        else ("error", t("knowledge_doc_already_gone", doc_id=doc_id))
    )


# -- FAQ drafts (proposed from the agents' replies, or from a knowledge gap) -----------
def faq_drafts() -> FaqDrafts:
    return FaqDrafts(ws, ctx.desk.store)


def propose_faqs() -> None:
    found = faq_drafts().propose(author=ctx.user.username)
    S["faq_notice"] = (
        "success",
        t(
            "knowledge_faq_proposed",
            replies=found.replies,
            new=len(found.new),
            extended=len(found.extended),
            covered=len(found.covered),
            decided=len(found.decided),
        ),
    )


def approve_faq(draft_id: int) -> None:
    try:
        d = faq_drafts().approve(
            draft_id,
            by=ctx.user.username,
            question=str(S.get(f"faq_q_{draft_id}") or ""),
            answer=str(S.get(f"faq_a_{draft_id}") or ""),
        )
    except SouffleurError as exc:
        S["faq_notice"] = ("error", str(exc))
        return
    S["faq_notice"] = (
        "success",
        t("knowledge_faq_approved", draft_id=d.id, doc_id=d.doc_id),
    )


def reject_faq(draft_id: int) -> None:
    try:
        d = faq_drafts().reject(draft_id, by=ctx.user.username)
    except SouffleurError as exc:
        S["faq_notice"] = ("error", str(exc))
        return
    S["faq_notice"] = ("success", t("knowledge_faq_rejected", draft_id=d.id))


def draft_faq_from_gap(gap: Gap) -> None:
    d, created = faq_drafts().draft_from_gap(gap, author=ctx.user.username)
    S["gap_notice"] = t(
        "knowledge_gap_faq_created" if created else "knowledge_gap_faq_exists", draft_id=d.id
    )


def write_article(gap: Gap) -> None:
    article = article_from_gap(gap)
    S["article"] = article
    S["article_title"] = article.title
    S["article_body"] = article.body


# -- layout --------------------------------------------------------------------------
st.title(t("knowledge_title"))
# the counters are written last, after this run's upload, import or delete (never one behind)
summary = st.empty()
docs_tab, test_tab, orders_tab, policy_tab, gaps_tab, faq_tab = st.tabs(
    [
        t("knowledge_tab_documents"),
        t("knowledge_tab_test"),
        t("knowledge_tab_orders"),
        t("knowledge_tab_policy"),
        t("knowledge_tab_gaps"),
        t("knowledge_tab_faq"),
    ]
)

with docs_tab:
    with st.form("upload_docs", clear_on_submit=True):
        files = st.file_uploader(
            t("knowledge_upload_files"),
            type=EXTS,
            accept_multiple_files=True,
            key="kb_files",
            max_upload_size=max(1, math.ceil(ctx.settings.max_upload_mb)),
            help=t("knowledge_upload_files_help"),
        )
        if (
            st.form_submit_button(
                t("knowledge_upload_button"),
                type="primary",
                icon=":material/upload:",
            )
            and files
        ):
            ingest([(f.name, f.getvalue()) for f in files])
    if S.get("ingest_results"):
        show_results(S["ingest_results"])
    conflicts_section()

    docs = kb.documents()
    notice = S.pop("doc_notice", None)
    if notice:
        (st.success if notice[0] == "success" else st.error)(md(notice[1]))
    if not docs:
        st.info(t("knowledge_index_empty"))
    else:
        frame = pd.DataFrame(
            [
                {
                    "title": d.title,
                    "source": d.source_name,
                    "language": d.lang,
                    "chunks": d.chunk_count,
                    "version": d.version,
                    "updated": d.updated_at,
                    "id": d.doc_id,
                }
                for d in docs
            ]
        )
        st.dataframe(
            frame,
            hide_index=True,
            column_config={"updated": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm")},
        )
        by_id = {d.doc_id: d for d in docs}
        manage, replace = st.columns(2, gap="large")
        with manage, st.container(border=True):
            st.markdown("**" + t("knowledge_delete_title") + "**")
            st.selectbox(
                t("knowledge_document"),
                list(by_id),
                format_func=lambda i: f"{by_id[i].title} ({i})",
                key="doc_pick",
            )
            st.button(
                t("knowledge_delete_button"),
                key="doc_delete",
                icon=":material/delete:",
                on_click=delete_document,
                help=t("knowledge_delete_help"),
            )
        with replace, st.container(border=True):
            st.markdown("**" + t("knowledge_replace_title") + "**")
            sources = sorted({d.source_name for d in docs})
            with st.form("replace_doc", clear_on_submit=True, border=False):
                source = st.selectbox(t("knowledge_source_file"), sources, key="replace_source")
                new_file = st.file_uploader(
                    t("knowledge_new_version"), type=EXTS, key="replace_file"
                )
                if (
                    st.form_submit_button(
                        t("knowledge_replace_button"), icon=":material/published_with_changes:"
                    )
                    and new_file is not None
                ):
                    old_ext = str(source).rsplit(".", 1)[-1].lower()
                    if new_file.name.rsplit(".", 1)[-1].lower() != old_ext:
                        st.error(
                            t("knowledge_replace_wrong_format", name=md(new_file.name), ext=old_ext)
                        )
                    else:
                        ingest([(str(source), new_file.getvalue())])
                        st.rerun()

with test_tab:
    query = st.text_input(
        t("knowledge_test_question"),
        key="hit_query",
        placeholder=t("knowledge_test_question_placeholder"),
    )
    c1, c2, c3 = st.columns(3)
    k = c1.slider(t("knowledge_test_results"), 1, 20, 5, key="hit_k")
    mode = c2.segmented_control(
        t("knowledge_test_retrieval"),
        ["hybrid", "dense", "bm25"],
        default="hybrid",
        required=True,
        key="hit_mode",
    )
    lang = c3.segmented_control(
        t("knowledge_test_language"),
        ["any", "fr", "en"],
        default="any",
        required=True,
        key="hit_lang",
    )
    if query.strip():
        hits = kb.search(
            query, k=k, lang=None if lang == "any" else lang, mode=MODES.get(str(mode), "hybrid")
        )
        if not hits:
            st.warning(t("knowledge_test_no_match"))
        for h in hits:
            with st.container(border=True):
                path = " › ".join(h.chunk.heading_path)
                st.markdown(f"**{h.rank}. {md(h.title)}**" + (f" › {md(path)}" if path else ""))
                dense = (
                    f"{h.dense_score:.3f} (#{h.dense_rank})" if h.dense_score is not None else "–"
                )
                bm25 = f"{h.bm25_score:.2f} (#{h.bm25_rank})" if h.bm25_score is not None else "–"
                st.caption(
                    f"rrf {h.score:.4f} · dense {dense} · bm25 {bm25} · {md(h.chunk.lang)} · {md(h.doc_id)}"
                )
                st.markdown(md(h.snippet))

with orders_tab:
    orders_count = st.empty()
    with st.form("orders_upload", clear_on_submit=True):
        feed = st.file_uploader(
            t("knowledge_orders_file"),
            type=["csv", "json", "jsonl"],
            key="orders_file",
        )
        if (
            st.form_submit_button(
                t("knowledge_orders_import"), type="primary", icon=":material/upload:"
            )
            and feed is not None
        ):
            try:
                S["orders_report"] = ws.orders.import_file(feed.name, feed.getvalue())
            except SouffleurError as exc:
                S["orders_report"] = None
                st.error(md(str(exc)))
    report: ImportReport | None = S.get("orders_report")
    if report is not None:
        cols = st.columns(3)
        cols[0].metric(t("knowledge_orders_new"), report.inserted, border=True)
        cols[1].metric(t("knowledge_orders_updated"), report.updated, border=True)
        cols[2].metric(t("knowledge_orders_invalid"), len(report.invalid_rows), border=True)
        if report.problems:
            st.warning(t("knowledge_orders_some_invalid", source=md(report.source)))
            st.dataframe(
                pd.DataFrame(
                    [
                        {"row": p.row, "field": p.field, "problem": p.problem}
                        for p in report.problems
                    ]
                ),
                hide_index=True,
            )
        else:
            st.success(t("knowledge_orders_all_valid", source=md(report.source)))

with policy_tab:
    policy = ws.policies.current()
    ps = policy.settings
    st.caption(
        t(
            "knowledge_policy_active",
            triggers=len(policy.model.triggers),
            queues=len(policy.model.queues),
            refund_limit=ps.refund_limit,
            currency=ps.currency,
        )
    )
    notice = S.pop("policy_notice", None)
    if notice:
        if notice[0] == "error":
            st.error(md(notice[1]), icon=":material/error:")
            st.caption(t("knowledge_policy_still_active"))
        else:
            st.success(md(notice[1]))
    if "policy_text" not in S:
        S["policy_text"] = ws.policies.text()
    st.text_area(t("knowledge_policy_yaml"), key="policy_text", height=420)
    row = st.container(horizontal=True)
    row.button(
        t("knowledge_policy_save"),
        key="policy_save",
        type="primary",
        icon=":material/save:",
        on_click=save_policy,
    )
    row.button(
        t("knowledge_policy_revert"),
        key="policy_revert",
        icon=":material/undo:",
        on_click=revert_policy,
    )
    history = ws.policies.history()
    with st.expander(t("knowledge_policy_history", n=len(history))):
        st.caption(t("knowledge_policy_history_help"))
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "version": r.version,
                        t("knowledge_history_saved"): f"{r.created_at:%Y-%m-%d %H:%M}",
                        t("knowledge_history_by"): r.author or "—",
                        t("knowledge_history_note"): r.note,
                    }
                    for r in history
                ]
            ),
            hide_index=True,
            key="policy_history",
        )
        if len(history) > 1:
            pick = st.container(horizontal=True, vertical_alignment="bottom")
            pick.selectbox(
                t("knowledge_history_version"),
                [r.version for r in history[1:]],
                key="policy_version",
            )
            pick.button(
                t("knowledge_policy_restore"),
                key="policy_restore",
                icon=":material/history:",
                on_click=restore_policy,
            )
    with st.expander(t("knowledge_active_triggers")):
        st.caption(t("knowledge_active_triggers_help"))
        st.dataframe(
            pd.DataFrame(policy.triggers("fr" if fr else "en")),
            hide_index=True,
            key="policy_triggers",
        )

with gaps_tab:
    days = st.number_input(
        t("knowledge_gap_days"),
        min_value=1,
        max_value=365,
        value=7,
        key="gap_days",
    )
    gaps = ctx.desk.knowledge_gaps(days=int(days))
    if not gaps:
        st.success(t("knowledge_no_gaps"))
    else:
        st.caption(t("knowledge_gaps_intro"))
        for n, g in enumerate(gaps):
            when = f"{g.last_at:%Y-%m-%d %H:%M}" if g.last_at else ""
            said = ", ".join(md(w) for w in g.shown_words(6))
            title = t("knowledge_gap_title", count=g.count, said=said, when=when)
            with st.expander(title, expanded=n < 3):
                for example in g.examples[:5]:
                    st.markdown(f"> {md(example)}")
                if len(g.examples) > 5:
                    st.caption(t("knowledge_gap_more", n=len(g.examples) - 5))
                acts = st.container(horizontal=True)
                acts.button(
                    t("knowledge_gap_draft_faq"),
                    key=f"gap_faq_{n}",
                    icon=":material/quiz:",
                    on_click=draft_faq_from_gap,
                    args=(g,),
                    help=t("knowledge_gap_draft_faq_help"),
                )
                acts.button(
                    t("knowledge_gap_write_article"),
                    key=f"gap_article_{n}",
                    icon=":material/edit_note:",
                    on_click=write_article,
                    args=(g,),
                )
    gap_notice = S.pop("gap_notice", None)
    if gap_notice:
        st.success(md(gap_notice))
    if S.get("article") is not None:
        with st.container(border=True):
            st.markdown("**" + t("knowledge_article_new") + "**")
            st.text_input(t("knowledge_article_title"), key="article_title")
            st.text_area(t("knowledge_article_body"), key="article_body", height=260)
            row = st.container(horizontal=True)
            if row.button(
                t("knowledge_article_save"),
                key="article_save",
                type="primary",
                icon=":material/upload:",
            ):
                try:
                    name, data = S["article"].file(
                        str(S.get("article_title") or ""),
                        str(S.get("article_body") or ""),
                        taken={d.source_name for d in kb.documents()},
                    )
                except SouffleurError as exc:
                    st.error(md(str(exc)))
                else:
                    saved = ingest([(name, data)])
                    if all(r.ok for r in saved):
                        S.pop("article")
                        st.success(md(t("knowledge_article_indexed", name=name)))
                    else:
                        st.error(md("; ".join(r.error or "" for r in saved)))
            if row.button(t("knowledge_article_cancel"), key="article_cancel"):
                S.pop("article")
                st.rerun()

with faq_tab:
    st.caption(t("knowledge_faq_intro"))
    st.button(
        t("knowledge_faq_propose"),
        key="faq_propose",
        icon=":material/auto_awesome:",
        on_click=propose_faqs,
    )
    faq_notice = S.pop("faq_notice", None)
    if faq_notice:
        (st.success if faq_notice[0] == "success" else st.error)(md(faq_notice[1]))
    all_faqs = faq_drafts().entries()
    pending = [d for d in all_faqs if d.status == "pending"]
    decided = Counter(d.status for d in all_faqs if d.status != "pending")
    st.caption(
        t(
            "knowledge_faq_counts",
            pending=len(pending),
            approved=decided["approved"],
            rejected=decided["rejected"],
        )
    )
    for d in reversed(pending):
        with st.container(border=True):
            st.markdown(
                f"**#{d.id}** · {md(d.lang)} · "
                + t(
                    "knowledge_faq_asked",
                    ways=len(d.examples),
                    conversations=len(d.conversation_ids),
                )
                + (" · " + t("knowledge_faq_from_gap") if d.origin == "gap" else "")
            )
            for example in d.examples[:5]:
                st.markdown(f"> {md(example)}")
            st.text_input(t("knowledge_faq_question"), value=d.question, key=f"faq_q_{d.id}")
            st.text_area(t("knowledge_faq_answer"), value=d.answer, key=f"faq_a_{d.id}", height=140)
            row = st.container(horizontal=True)
            row.button(
                t("knowledge_faq_approve"),
                key=f"faq_approve_{d.id}",
                type="primary",
                icon=":material/check:",
                on_click=approve_faq,
                args=(d.id,),
            )
            row.button(
                t("knowledge_faq_reject"),
                key=f"faq_reject_{d.id}",
                icon=":material/close:",
                on_click=reject_faq,
                args=(d.id,),
            )


def counters() -> None:
    stats = kb.stats()
    n_orders = ws.orders.count()
    summary.caption(
        t(
            "knowledge_counters",
            documents=stats["documents"],
            chunks=stats["chunks"],
            orders=n_orders,
            embedder=kb.embedder.name,
        )
    )
    orders_count.caption(t("knowledge_orders_count", n=n_orders))


counters()
