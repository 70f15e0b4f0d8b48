"""Knowledge: the Documents tab. Upload and index files (with what each gave, and the possible
conflicts found), the indexed documents, deleting one, replacing one with a new version."""

from __future__ import annotations

import math
from collections import Counter

import pandas as pd
import streamlit as st

from faces.pages import ui
from faces.pages.knowledge_conflicts import conflicts_section
from faces.pages.ui import md_text as md
from knowledge import DocumentInfo, FileResult, supported_extensions
from knowledge.conflicts import UploadCheck, check_upload

S = st.session_state
EXTS = sorted({e.lstrip(".") for e in supported_extensions()})


def ingest(ctx: ui.Context, sources: list[tuple[str, bytes]]) -> list[FileResult]:
    """Index uploaded files with a progress bar; the results stay on screen until the next upload."""
    t, kb = ctx.t, ctx.ws.kb
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


def show_results(ctx: ui.Context, results: list[FileResult]) -> None:
    t = ctx.t
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


def delete_document(ctx: ui.Context) -> None:
    t = ctx.t
    doc_id = str(S.get("doc_pick") or "")  # read at click time, not when the button was drawn
    S["doc_notice"] = (
        ("success", t("knowledge_doc_deleted", doc_id=doc_id))
        if ctx.ws.kb.delete(doc_id)
        else ("error", t("knowledge_doc_already_gone", doc_id=doc_id))
    )


def documents_tab(ctx: ui.Context) -> None:
    upload_form(ctx)
    if S.get("ingest_results"):
        show_results(ctx, S["ingest_results"])
    conflicts_section(ctx)

    docs = ctx.ws.kb.documents()
    notice = S.pop("doc_notice", None)
    if notice:
        (st.success if notice[0] == "success" else st.error)(md(notice[1]))
    if not docs:
        st.info(ctx.t("knowledge_index_empty"))
    else:
        documents_table(docs)
        manage, replace = st.columns(2, gap="large")
        with manage, st.container(border=True):
            delete_box(ctx, docs)
        with replace, st.container(border=True):
            replace_box(ctx, docs)


def upload_form(ctx: ui.Context) -> None:
    t = ctx.t
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
            ingest(ctx, [(f.name, f.getvalue()) for f in files])


def documents_table(docs: list[DocumentInfo]) -> None:
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


def delete_box(ctx: ui.Context, docs: list[DocumentInfo]) -> None:
    t = ctx.t
    by_id = {d.doc_id: d for d in docs}
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
        args=(ctx,),
        help=t("knowledge_delete_help"),
    )


def replace_box(ctx: ui.Context, docs: list[DocumentInfo]) -> None:
    """A new version of an indexed file, under the same name and format."""
    t = ctx.t
    st.markdown("**" + t("knowledge_replace_title") + "**")
    sources = sorted({d.source_name for d in docs})
    with st.form("replace_doc", clear_on_submit=True, border=False):
        source = st.selectbox(t("knowledge_source_file"), sources, key="replace_source")
        new_file = st.file_uploader(t("knowledge_new_version"), type=EXTS, key="replace_file")
        if (
            st.form_submit_button(
                t("knowledge_replace_button"), icon=":material/published_with_changes:"
            )
            and new_file is not None
        ):
            old_ext = str(source).rsplit(".", 1)[-1].lower()
            if new_file.name.rsplit(".", 1)[-1].lower() != old_ext:
                st.error(t("knowledge_replace_wrong_format", name=md(new_file.name), ext=old_ext))
            else:
                ingest(ctx, [(str(source), new_file.getvalue())])
                st.rerun()
