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


def L(en: str, fr_text: str) -> str:
    return fr_text if fr else en


# -- actions -------------------------------------------------------------------------
def ingest(sources: list[tuple[str, bytes]]) -> list[FileResult]:
    """Index uploaded files with a progress bar; the results stay on screen until the next upload."""
    bar = st.progress(0.0, text=L("Reading files…", "Lecture des fichiers…"))

    def progress(done: int, total: int, name: str) -> None:
        label = (
            L("Indexing…", "Indexation…") if name == "indexing" else f"{done + 1}/{total} · {name}"
        )
        bar.progress(min(done / max(total, 1), 1.0), text=md(label))

    results = kb.ingest_sources([(name, data) for name, data in sources], progress=progress)
    bar.progress(
        1.0, text=L("Checking against the other documents…", "Comparaison aux autres documents…")
    )
    S["ingest_conflicts"] = check_upload(kb, results)
    bar.progress(1.0, text=L("Done", "Terminé"))
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
            md(f"{r.name}: {summary}; {r.chunks} chunks; " + L("language", "langue") + f" {langs}"),
            icon=":material/check_circle:",
        )
        for note in r.notes:
            st.warning(md(f"{r.name}: {note}"), icon=":material/info:")
    check: UploadCheck | None = S.get("ingest_conflicts")
    found = check.open if check else []
    if check and check.unchecked_within:
        st.info(
            md(
                L(
                    f"The {check.unchecked_within} new documents were checked against the "
                    "others, not against each other (a big batch): `souffleur conflicts scan` "
                    "checks everything.",
                    f"Les {check.unchecked_within} nouveaux documents ont été comparés aux autres, "
                    "pas entre eux (gros lot) : `souffleur conflicts scan` compare tout.",
                )
            )
        )
    if found:
        st.warning(
            md(
                L(
                    f"{len(found)} possible conflict(s) with the other documents: decide below "
                    "which statement the drafts should use.",
                    f"{len(found)} conflit(s) possible(s) avec les autres documents : choisissez "
                    "ci-dessous l’affirmation que les brouillons doivent utiliser.",
                )
            ),
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
        "kept_new": L(f"{c.new_title} kept", f"{c.new_title} retenu"),
        "kept_old": L(f"{c.old_title} kept", f"{c.old_title} retenu"),
        "kept_both": L(
            f"both kept: {c.new_value} for {c.new_scope}, {c.old_value} for {c.old_scope}",
            f"les deux : {c.new_value} pour {c.new_scope}, {c.old_value} pour {c.old_scope}",
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
            L(f"#{conflict_id} reopened.", f"#{conflict_id} rouvert."),
        )


def show_conflict(c: StoredConflict) -> None:
    """Both statements side by side, and the decision."""
    with st.container(border=True):
        new, old = st.columns(2)
        new.markdown(
            md(f"**{L('New', 'Nouveau')} · {c.new_title}** — {c.new_value}")
            + "\n\n> "
            + md(c.new_sentence)
        )
        old.markdown(
            md(f"**{L('Existing', 'Existant')} · {c.old_title}** — {c.old_value}")
            + "\n\n> "
            + md(c.old_sentence)
        )
        if not c.is_open:
            by = f" ({c.decided_by})" if c.decided_by else ""
            st.caption(md(f"#{c.id}: {decision(c)}{by}"))
            st.button(
                L("Reopen", "Rouvrir"),
                key=f"conflict_reopen_{c.id}",
                on_click=reopen_conflict,
                args=(c.id,),
            )
            return
        keep = st.radio(
            L("The drafts should use", "Les brouillons doivent utiliser"),
            ["new", "old", "both"],
            format_func=lambda k: {
                "new": L(f"{c.new_value} ({c.new_title})", f"{c.new_value} ({c.new_title})"),
                "old": L(f"{c.old_value} ({c.old_title})", f"{c.old_value} ({c.old_title})"),
                "both": L("both, each for its own case", "les deux, chacun pour son cas"),
            }[k],
            key=f"conflict_keep_{c.id}",
            horizontal=True,
        )
        if keep == "both":
            a, b = st.columns(2)
            a.text_input(
                L(f"{c.new_value} holds for…", f"{c.new_value} vaut pour…"),
                key=f"conflict_scope_new_{c.id}",
                placeholder=L("e.g. engraved items", "ex. articles gravés"),
            )
            b.text_input(
                L(f"{c.old_value} holds for…", f"{c.old_value} vaut pour…"),
                key=f"conflict_scope_old_{c.id}",
                placeholder=L("e.g. every other order", "ex. toutes les autres commandes"),
            )
        st.button(
            L("Decide", "Décider"),
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
    st.subheader(L("Statements that disagree", "Affirmations en désaccord"))
    notice = S.pop("conflict_notice", None)
    if notice:
        (st.success if notice[0] == "success" else st.error)(md(notice[1]))
    if open_:
        st.caption(
            L(
                f"{len(open_)} to decide. Until then, a draft citing either statement tells the "
                "agent to check the figure. Keeping one sets the other aside from the drafts "
                "(its document stays as it is).",
                f"{len(open_)} à trancher. D’ici là, un brouillon qui cite l’une ou l’autre "
                "demande à l’agent de vérifier le chiffre. En garder une écarte l’autre des "
                "brouillons (son document reste tel quel).",
            )
        )
    for c in open_:
        show_conflict(c)
    if decided:
        with st.expander(L(f"Decided ({len(decided)})", f"Tranchés ({len(decided)})")):
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
            L(
                f"Policy saved: {len(policy.model.triggers)} triggers are active.",
                f"Politique enregistrée : {len(policy.model.triggers)} déclencheurs actifs.",
            ),
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
        L(
            f"Version {version} restored as the active policy ({len(policy.model.triggers)} triggers).",
            f"Version {version} rétablie comme politique active ({len(policy.model.triggers)} déclencheurs).",
        ),
    )


def delete_document() -> None:
    doc_id = str(S.get("doc_pick") or "")  # read at click time, not when the button was drawn
    S["doc_notice"] = (
        ("success", L(f"Deleted {doc_id}.", f"{doc_id} supprimé."))
        if kb.delete(doc_id)
        else ("error", L(f"{doc_id} was already gone.", f"{doc_id} n’existait plus."))
    )


# -- FAQ drafts (proposed from the agents' replies, or from a knowledge gap) -----------
def faq_drafts() -> FaqDrafts:
    return FaqDrafts(ws, ctx.desk.store)


def propose_faqs() -> None:
    found = faq_drafts().propose(author=ctx.user.username)
    S["faq_notice"] = (
        "success",
        L(
            f"{found.replies} replies agents wrote to unsupported questions, in no FAQ draft yet: "
            f"{len(found.new)} new FAQ drafts, "
            f"{len(found.extended)} drafts given more questions, {len(found.covered)} already "
            f"covered by the knowledge, {len(found.decided)} decided before.",
            f"{found.replies} réponses d’agents sans appui dans la base, dans aucun brouillon : "
            f"{len(found.new)} nouveaux "
            f"brouillons, {len(found.extended)} complétés, {len(found.covered)} déjà couverts par "
            f"la base, {len(found.decided)} déjà tranchés.",
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
        L(
            f"FAQ #{d.id} approved: indexed as {d.doc_id}.",
            f"FAQ n° {d.id} approuvée : indexée sous {d.doc_id}.",
        ),
    )


def reject_faq(draft_id: int) -> None:
    try:
        d = faq_drafts().reject(draft_id, by=ctx.user.username)
    except SouffleurError as exc:
        S["faq_notice"] = ("error", str(exc))
        return
    S["faq_notice"] = ("success", L(f"FAQ #{d.id} rejected.", f"FAQ n° {d.id} rejetée."))


def draft_faq_from_gap(gap: Gap) -> None:
    d, created = faq_drafts().draft_from_gap(gap, author=ctx.user.username)
    S["gap_notice"] = L(
        f"FAQ draft #{d.id} {'created' if created else 'already holds these questions'}: "
        "review it on the FAQ drafts tab.",
        f"Brouillon de FAQ n° {d.id} {'créé' if created else 'existant pour ces questions'} : "
        "relisez-le dans l’onglet Brouillons de FAQ.",
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
        L("Documents", "Documents"),
        L("Test a question", "Tester une question"),
        L("Order feed", "Flux de commandes"),
        L("Escalation policy", "Politique d’escalade"),
        L("Knowledge gaps", "Lacunes"),
        L("FAQ drafts", "Brouillons de FAQ"),
    ]
)

with docs_tab:
    with st.form("upload_docs", clear_on_submit=True):
        files = st.file_uploader(
            L("Add or update knowledge files", "Ajouter ou mettre à jour des fichiers"),
            type=EXTS,
            accept_multiple_files=True,
            key="kb_files",
            max_upload_size=max(1, math.ceil(ctx.settings.max_upload_mb)),
            help=L(
                "A file with the same name as an indexed one replaces it (a new version); an identical file changes nothing.",
                "Un fichier du même nom qu’un fichier indexé le remplace (nouvelle version) ; un fichier identique ne change rien.",
            ),
        )
        if (
            st.form_submit_button(
                L("Upload and index", "Téléverser et indexer"),
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
        st.info(
            L(
                "The index is empty: upload FAQs, help articles or policies above.",
                "L’index est vide : téléversez FAQ, articles ou politiques ci-dessus.",
            )
        )
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
            st.markdown("**" + L("Delete a document", "Supprimer un document") + "**")
            st.selectbox(
                L("Document", "Document"),
                list(by_id),
                format_func=lambda i: f"{by_id[i].title} ({i})",
                key="doc_pick",
            )
            st.button(
                L("Delete", "Supprimer"),
                key="doc_delete",
                icon=":material/delete:",
                on_click=delete_document,
                help=L(
                    "The document and its chunks leave the index at once.",
                    "Le document et ses passages quittent l’index aussitôt.",
                ),
            )
        with replace, st.container(border=True):
            st.markdown(
                "**" + L("Replace with a new version", "Remplacer par une nouvelle version") + "**"
            )
            sources = sorted({d.source_name for d in docs})
            with st.form("replace_doc", clear_on_submit=True, border=False):
                source = st.selectbox(
                    L("Source file", "Fichier source"), sources, key="replace_source"
                )
                new_file = st.file_uploader(
                    L("New version", "Nouvelle version"), type=EXTS, key="replace_file"
                )
                if (
                    st.form_submit_button(
                        L("Replace", "Remplacer"), icon=":material/published_with_changes:"
                    )
                    and new_file is not None
                ):
                    old_ext = str(source).rsplit(".", 1)[-1].lower()
                    if new_file.name.rsplit(".", 1)[-1].lower() != old_ext:
                        st.error(
                            L(
                                f"{md(new_file.name)} is not a .{old_ext} file: upload the new version in the same format.",
                                f"{md(new_file.name)} n’est pas un fichier .{old_ext} : téléversez la nouvelle version dans le même format.",
                            )
                        )
                    else:
                        ingest([(str(source), new_file.getvalue())])
                        st.rerun()

with test_tab:
    query = st.text_input(
        L("Question", "Question"),
        key="hit_query",
        placeholder=L("Where is my parcel?", "Où en est mon colis ?"),
    )
    c1, c2, c3 = st.columns(3)
    k = c1.slider(L("Results", "Résultats"), 1, 20, 5, key="hit_k")
    mode = c2.segmented_control(
        L("Retrieval", "Recherche"),
        ["hybrid", "dense", "bm25"],
        default="hybrid",
        required=True,
        key="hit_mode",
    )
    lang = c3.segmented_control(
        L("Language", "Langue"), ["any", "fr", "en"], default="any", required=True, key="hit_lang"
    )
    if query.strip():
        hits = kb.search(
            query, k=k, lang=None if lang == "any" else lang, mode=MODES.get(str(mode), "hybrid")
        )
        if not hits:
            st.warning(
                L(
                    "No match: this question would be a knowledge gap.",
                    "Aucun résultat : cette question serait une lacune.",
                )
            )
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
            L("Order feed (CSV, JSON or JSONL)", "Flux de commandes (CSV, JSON ou JSONL)"),
            type=["csv", "json", "jsonl"],
            key="orders_file",
        )
        if (
            st.form_submit_button(L("Import", "Importer"), type="primary", icon=":material/upload:")
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
        cols[0].metric(L("New orders", "Nouvelles"), report.inserted, border=True)
        cols[1].metric(L("Updated", "Mises à jour"), report.updated, border=True)
        cols[2].metric(L("Invalid rows", "Lignes invalides"), len(report.invalid_rows), border=True)
        if report.problems:
            st.warning(
                L(
                    f"{md(report.source)}: some rows were not imported; the others were.",
                    f"{md(report.source)} : certaines lignes n’ont pas été importées ; les autres l’ont été.",
                )
            )
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
            st.success(
                L(
                    f"{md(report.source)}: every row is valid.",
                    f"{md(report.source)} : toutes les lignes sont valides.",
                )
            )

with policy_tab:
    policy = ws.policies.current()
    ps = policy.settings
    st.caption(
        L(
            f"Active policy: {len(policy.model.triggers)} triggers, {len(policy.model.queues)} queues, refunds above {ps.refund_limit:g} {ps.currency} go to a human.",
            f"Politique active : {len(policy.model.triggers)} déclencheurs, {len(policy.model.queues)} files, remboursements au-delà de {ps.refund_limit:g} {ps.currency} vers un humain.",
        )
    )
    notice = S.pop("policy_notice", None)
    if notice:
        if notice[0] == "error":
            st.error(md(notice[1]), icon=":material/error:")
            st.caption(
                L("The previous policy is still active.", "La politique précédente reste active.")
            )
        else:
            st.success(md(notice[1]))
    if "policy_text" not in S:
        S["policy_text"] = ws.policies.text()
    st.text_area(L("Policy (YAML)", "Politique (YAML)"), key="policy_text", height=420)
    row = st.container(horizontal=True)
    row.button(
        L("Save policy", "Enregistrer"),
        key="policy_save",
        type="primary",
        icon=":material/save:",
        on_click=save_policy,
    )
    row.button(
        L("Revert to the active policy", "Revenir à la politique active"),
        key="policy_revert",
        icon=":material/undo:",
        on_click=revert_policy,
    )
    history = ws.policies.history()
    with st.expander(L("History", "Historique") + f" ({len(history)})"):
        st.caption(
            L(
                "Every save is a new version, shared by every app and API process of this workspace within seconds.",
                "Chaque enregistrement est une nouvelle version, appliquée par tous les processus de l’espace de travail en quelques secondes.",
            )
        )
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "version": r.version,
                        L("saved", "enregistrée"): f"{r.created_at:%Y-%m-%d %H:%M}",
                        L("by", "par"): r.author or "—",
                        L("note", "note"): r.note,
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
                L("Version", "Version"),
                [r.version for r in history[1:]],
                key="policy_version",
            )
            pick.button(
                L("Restore this version", "Rétablir cette version"),
                key="policy_restore",
                icon=":material/history:",
                on_click=restore_policy,
            )
    with st.expander(L("Active triggers", "Déclencheurs actifs")):
        st.caption(
            L(
                "Most serious first: the first that fires routes the conversation. Hard triggers hand it over whatever the draft; computed ones come from the order feed, the history and the draft (their settings are under 'settings').",
                "Du plus grave au moins grave : le premier qui se déclenche oriente la conversation. Les déclencheurs impératifs la transmettent quel que soit le brouillon ; les calculés viennent des commandes, de l’historique et du brouillon (leurs réglages sont sous « settings »).",
            )
        )
        st.dataframe(
            pd.DataFrame(policy.triggers("fr" if fr else "en")),
            hide_index=True,
            key="policy_triggers",
        )

with gaps_tab:
    days = st.number_input(
        L("Questions of the last N days", "Questions des N derniers jours"),
        min_value=1,
        max_value=365,
        value=7,
        key="gap_days",
    )
    gaps = ctx.desk.knowledge_gaps(days=int(days))
    if not gaps:
        st.success(
            L(
                "No knowledge gap: every recent question found supporting knowledge.",
                "Aucune lacune : chaque question récente a trouvé des connaissances.",
            )
        )
    else:
        st.caption(
            L(
                "Customer questions whose retrieval evidence was weak, grouped by the words they "
                "share, the most asked first. Questions handed to a human on purpose (GDPR, anger, "
                "legal…) and thanks are left out; personal data and numbers are shown as "
                "placeholders. Add or fix the knowledge that answers them.",
                "Questions de clients dont les preuves de recherche étaient faibles, regroupées par "
                "mots communs, les plus posées d'abord. Les questions confiées à un humain exprès "
                "(RGPD, colère, juridique…) et les remerciements sont écartés ; données personnelles "
                "et numéros apparaissent en balises. Ajoutez ou corrigez la connaissance qui y répond.",
            )
        )
        for n, g in enumerate(gaps):
            when = f"{g.last_at:%Y-%m-%d %H:%M}" if g.last_at else ""
            said = ", ".join(md(w) for w in g.shown_words(6))
            title = L(
                f"{g.count} question(s) · {said} · last {when}",
                f"{g.count} question(s) · {said} · dernière {when}",
            )
            with st.expander(title, expanded=n < 3):
                for example in g.examples[:5]:
                    st.markdown(f"> {md(example)}")
                if len(g.examples) > 5:
                    st.caption(
                        L(
                            f"and {len(g.examples) - 5} more",
                            f"et {len(g.examples) - 5} de plus",
                        )
                    )
                acts = st.container(horizontal=True)
                acts.button(
                    L("Draft an FAQ", "Rédiger une FAQ"),
                    key=f"gap_faq_{n}",
                    icon=":material/quiz:",
                    on_click=draft_faq_from_gap,
                    args=(g,),
                    help=L(
                        "A pending FAQ draft with these questions, answered with what agents "
                        "wrote in these conversations (if they did).",
                        "Un brouillon de FAQ en attente avec ces questions, et ce que les agents "
                        "y ont répondu (s’ils l’ont fait).",
                    ),
                )
                acts.button(
                    L("Write an article", "Écrire un article"),
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
            st.markdown("**" + L("New article", "Nouvel article") + "**")
            st.text_input(L("Title", "Titre"), key="article_title")
            st.text_area(
                L("Article (Markdown)", "Article (Markdown)"), key="article_body", height=260
            )
            row = st.container(horizontal=True)
            if row.button(
                L("Save and index", "Enregistrer et indexer"),
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
                        st.success(
                            md(
                                L(
                                    f"{name} is indexed (see the Documents tab).",
                                    f"{name} est indexé (voir l’onglet Documents).",
                                )
                            )
                        )
                    else:
                        st.error(md("; ".join(r.error or "" for r in saved)))
            if row.button(L("Cancel", "Annuler"), key="article_cancel"):
                S.pop("article")
                st.rerun()

with faq_tab:
    st.caption(
        L(
            "Questions agents answered themselves where the knowledge had nothing, grouped and "
            "with personal data as placeholders. Edit, then approve (indexed as a FAQ, with the "
            "conversations it came from) or reject. Text that still holds personal data is refused.",
            "Questions auxquelles les agents ont répondu eux-mêmes faute de connaissance, "
            "regroupées, données personnelles en balises. Modifiez, puis approuvez (indexée comme "
            "FAQ, avec ses conversations d’origine) ou rejetez. Un texte qui contient encore des "
            "données personnelles est refusé.",
        )
    )
    st.button(
        L("Propose from recent conversations", "Proposer depuis les conversations récentes"),
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
        L(
            f"{len(pending)} pending · {decided['approved']} approved · {decided['rejected']} rejected",
            f"{len(pending)} en attente · {decided['approved']} approuvées · {decided['rejected']} rejetées",
        )
    )
    for d in reversed(pending):
        with st.container(border=True):
            st.markdown(
                f"**#{d.id}** · {md(d.lang)} · "
                + L(
                    f"asked {len(d.examples)} way(s) in {len(d.conversation_ids)} conversation(s)",
                    f"posée de {len(d.examples)} façon(s) dans {len(d.conversation_ids)} conversation(s)",
                )
                + (
                    L(" · from a knowledge gap", " · depuis une lacune")
                    if d.origin == "gap"
                    else ""
                )
            )
            for example in d.examples[:5]:
                st.markdown(f"> {md(example)}")
            st.text_input(L("Question", "Question"), value=d.question, key=f"faq_q_{d.id}")
            st.text_area(L("Answer", "Réponse"), value=d.answer, key=f"faq_a_{d.id}", height=140)
            row = st.container(horizontal=True)
            row.button(
                L("Approve", "Approuver"),
                key=f"faq_approve_{d.id}",
                type="primary",
                icon=":material/check:",
                on_click=approve_faq,
                args=(d.id,),
            )
            row.button(
                L("Reject", "Rejeter"),
                key=f"faq_reject_{d.id}",
                icon=":material/close:",
                on_click=reject_faq,
                args=(d.id,),
            )


def counters() -> None:
    stats = kb.stats()
    n_orders = ws.orders.count()
    summary.caption(
        L(
            f"{stats['documents']} documents · {stats['chunks']} chunks · {n_orders} orders · embedder {kb.embedder.name}",
            f"{stats['documents']} documents · {stats['chunks']} passages · {n_orders} commandes · embedder {kb.embedder.name}",
        )
    )
    orders_count.caption(
        L(f"{n_orders} orders in the feed.", f"{n_orders} commandes dans le flux.")
    )


counters()
