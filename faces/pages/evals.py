"""Evals (evaluators): run an eval on a dataset with a progress bar, read a run's metrics with
their intervals and plots, drill into its failures, compare two runs with the CI gate.

Layout only: running is :func:`evals.run_eval`; what to show comes from :mod:`evals.browse`,
:mod:`evals.report` and :mod:`evals.compare`. Text from datasets and drafts is shown as text
(``st.text``, ``st.code``, dataframe cells, escaped Markdown). The only images are the SVG
charts our code draws from numbers, shown with ``st.image`` (an ``<img>``: nothing in it runs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from evals import RunConfig, browse, replay, run_eval
from evals.report import CHOICES, summary_rows
from evals.report import charts as report_charts
from evals.runner import new_run_folder
from evals.stats import Estimate
from faces.pages import ui
from faces.pages.ui import md_text as md
from knowledge import SouffleurError

ctx = ui.context()
t, S = ctx.t, st.session_state
fr = ctx.lang == "fr"
settings = ctx.settings
RUNS = browse.runs_dir(settings.data_dir)
OTHER = "__other__"


def L(en: str, fr_text: str) -> str:
    return fr_text if fr else en


TABS = {
    "run": L("Run an eval", "Lancer une évaluation"),
    "results": L("Results", "Résultats"),
    "cases": L("Failures and cases", "Échecs et cas"),
    "compare": L("Compare two runs", "Comparer deux évaluations"),
}


# -- actions -------------------------------------------------------------------------
def start(cfg: RunConfig) -> None:
    """Run (or resume) an eval with a progress bar, then open its results."""
    bar = st.progress(
        0.0,
        text=L(
            "Indexing the dataset's knowledge (cached after the first run)…",
            "Indexation des connaissances du jeu de données (en cache après la première fois)…",
        ),
    )

    def progress(done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=f"{done}/{total} " + L("cases", "cas"))

    try:
        if cfg.out is None:
            cfg.out = new_run_folder(RUNS, cfg.dataset, cfg.drafter)
        result = run_eval(
            cfg, settings, embedder=ctx.ws.kb.embedder, progress=progress, workspace=ctx.ws
        )
    except SouffleurError as exc:
        bar.empty()
        st.error(md(str(exc)), icon=":material/error:")
        return
    done = len(result.records)
    index_s = float(result.manifest.get("index_build_s") or 0.0)
    S["eval_run"] = result.folder.name
    S["eval_notice"] = L(
        f"Run finished: {done} cases in {result.seconds:.1f} s (+ {index_s:.1f} s for the knowledge index). Folder: {result.folder}",
        f"Évaluation terminée : {done} cas en {result.seconds:.1f} s (+ {index_s:.1f} s pour l’index des connaissances). Dossier : {result.folder}",
    )
    S["eval_next_tab"] = TABS["results"]
    st.rerun()


def start_replay(drafter: str) -> None:
    """Replay the desk's history (evals.replay): its figures are shown under the button."""
    bar = st.progress(0.0, text=L("Building the set…", "Construction du jeu…"))

    def progress(done: int, total: int) -> None:
        bar.progress(
            min(done / max(total, 1), 1.0), text=f"{done}/{total} " + L("replies", "réponses")
        )

    try:
        result = replay.run_replay(
            settings,
            drafter=drafter,
            workspace=ctx.ws,
            progress=progress,
        )
    except SouffleurError as exc:
        bar.empty()
        st.error(md(str(exc)), icon=":material/error:")
        return
    bar.empty()
    S["eval_replay"] = str(result.folder)


def replay_section(drafter: str) -> None:
    """The desk's own conversations as a benchmark: how many replies it holds, a button that
    replays them, and the last replay's figures."""
    st.subheader(L("Replay this desk's history", "Rejouer l’historique du guichet"))
    found = replay.history(ctx.desk.store)
    st.caption(
        md(
            L(
                f"Each agent reply that answers customer messages becomes a case: the conversation so far is the input, what the agent sent the reference, whether they escalated the label (personal data masked). The latest {replay.TEST_PERCENT} % are replayed with the current knowledge and compared with what agents sent. CLI: souffleur eval replay [--split-date YYYY-MM-DD].",
                f"Chaque réponse d’un agent à des messages de client devient un cas : la conversation jusque-là en entrée, ce que l’agent a envoyé en référence, son escalade ou non en étiquette (données personnelles masquées). Les {replay.TEST_PERCENT} % plus récents sont rejoués avec les connaissances actuelles et comparés à ce que les agents ont envoyé. CLI : souffleur eval replay [--split-date AAAA-MM-JJ].",
            )
        )
    )
    st.text(
        L(
            f"{found.cases} usable agent replies ({found.replies} sent, {found.escalated} escalated) in {found.conversations} conversations; at least {replay.MIN_CASES} needed.",
            f"{found.cases} réponses d’agents utilisables ({found.replies} envoyées, {found.escalated} escaladées) dans {found.conversations} conversations ; il en faut au moins {replay.MIN_CASES}.",
        )
    )
    enough = found.cases >= replay.MIN_CASES
    if st.button(
        L("Replay this desk's history", "Rejouer l’historique"),
        icon=":material/history:",
        key="eval_replay_start",
        disabled=not enough,
    ):
        start_replay(drafter)
    if not enough:
        st.info(md(str(replay.not_enough(found, replay.MIN_CASES))), icon=":material/history:")
    folder = Path(S["eval_replay"]) if S.get("eval_replay") else None
    if folder is not None and (folder / replay.REPORT).is_file():
        report = replay.load_report(folder)
        st.table(
            pd.DataFrame(
                [(md(k), md(v)) for k, v in replay.report_rows(report)],
                columns=["figure", "value [95% CI]"],
            ),
            hide_index=True,
        )
        st.caption(md(L(f"Run folder: {folder}", f"Dossier : {folder}")))


def keep_run(widget_key: str) -> None:
    """The run picked in one tab is the run the other tab shows."""
    S["eval_run"] = S[widget_key]


def run_picker(runs: list[browse.RunInfo], where: str) -> browse.RunInfo:
    """The run being read; the Results and Cases tabs show the same one."""
    names = [r.name for r in runs]
    if S.get("eval_run") not in names:
        S["eval_run"] = names[0]
    S[f"eval_run__{where}"] = S["eval_run"]
    by_name = {r.name: r for r in runs}
    name = st.selectbox(
        L("Run", "Évaluation"),
        names,
        format_func=lambda n: by_name[n].label,
        key=f"eval_run__{where}",
        on_change=keep_run,
        args=(f"eval_run__{where}",),
        help=L("Newest first.", "La plus récente d’abord."),
    )
    return by_name[str(name)]


def point(e: Estimate) -> str:
    return "n/a" if e.value is None else f"{100 * e.value:.1f}%"


# -- the tabs ------------------------------------------------------------------------
def run_tab(runs: list[browse.RunInfo]) -> None:
    demo = browse.demo_dataset()
    dev = browse.dev_sets()
    choices = ([demo] if demo else []) + (dev or [])
    labels = {str(c.path): c.label for c in choices} | {
        OTHER: L("Another dataset folder…", "Autre dossier de jeu de données…")
    }
    pick = st.radio(
        L("Dataset", "Jeu de données"),
        list(labels),
        format_func=lambda p: md(labels[p]),
        key="eval_dataset",
        persist_state="session",
    )
    if dev is None:
        st.caption(
            md(
                L(
                    f"No dev sets here: {browse.SHARED_DATA} does not exist. The dev sets (cdtn-fr, mtrag-support-en) live in ../shared/data beside the repository; any dataset folder can also be typed below.",
                    f"Pas de jeux de développement ici : {browse.SHARED_DATA} n’existe pas. Les jeux de développement (cdtn-fr, mtrag-support-en) sont dans ../shared/data à côté du dépôt ; tout dossier de jeu de données peut aussi être saisi ci-dessous.",
                )
            )
        )
    elif not dev:
        st.caption(
            md(
                L(
                    f"No dataset folder (with a cases.jsonl) in {browse.SHARED_DATA}.",
                    f"Aucun dossier de jeu de données (avec un cases.jsonl) dans {browse.SHARED_DATA}.",
                )
            )
        )
    dataset = str(pick)
    if pick == OTHER:
        dataset = st.text_input(
            L("Dataset folder", "Dossier du jeu de données"),
            key="eval_dataset_path",
            persist_state="session",
            placeholder="/path/to/dataset",
            help=L(
                "A folder with cases.jsonl and kb.jsonl (optionally orders.jsonl); see EVALS.md §0. A relative path is read from the app's working directory.",
                "Un dossier avec cases.jsonl et kb.jsonl (et éventuellement orders.jsonl) ; voir EVALS.md §0. Un chemin relatif part du dossier de travail de l’application.",
            ),
        ).strip()

    llm = bool(settings.llm_base_url)
    cols = st.columns(5)
    drafter = cols[0].radio(
        L("Drafter", "Rédacteur"),
        ["offline", "llm"],
        key="eval_drafter",
        persist_state="session",
        horizontal=True,
        disabled=not llm,
        help=L(
            "The language-model drafter needs an endpoint (SOUFFLEUR_LLM_BASE_URL); without one, the offline drafter runs."
            if not llm
            else "offline: deterministic, no network; llm: the configured endpoint (calls are cached by content).",
            "Le rédacteur LLM a besoin d’un point d’accès (SOUFFLEUR_LLM_BASE_URL) ; sans lui, c’est le rédacteur hors ligne."
            if not llm
            else "offline : déterministe, sans réseau ; llm : le point d’accès configuré (appels mis en cache).",
        ),
    )
    limit = cols[1].number_input(
        L("Limit (cases)", "Limite (cas)"),
        min_value=1,
        value=None,
        step=1,
        key="eval_limit",
        persist_state="session",
        placeholder=L("all", "tous"),
        help=L("Run only the first N cases.", "N’évaluer que les N premiers cas."),
    )
    seed = cols[2].number_input(
        L("Seed", "Graine"),
        min_value=0,
        value=0,
        step=1,
        key="eval_seed",
        persist_state="session",
        help=L(
            "Seeds the bootstrap intervals and the dev/test split.",
            "Graine des intervalles bootstrap et du découpage dev/test.",
        ),
    )
    workers = cols[3].number_input(
        L("Workers", "Parallélisme"),
        min_value=1,
        max_value=16,
        value=2,
        step=1,
        key="eval_workers",
        persist_state="session",
        help=L("Cases in flight at once.", "Cas traités en même temps."),
    )
    threshold = cols[4].number_input(
        L("Confidence threshold τ", "Seuil de confiance τ"),
        min_value=0.0,
        max_value=1.0,
        value=None,
        step=0.05,
        key="eval_threshold",
        persist_state="session",
        placeholder=L("calibrated", "calibré"),
        help=L(
            "Below τ the copilot hands off. Empty: the confidence model's calibrated threshold.",
            "Sous τ le copilote passe la main. Vide : le seuil calibré du modèle de confiance.",
        ),
    )
    if st.button(
        L("Run the eval", "Lancer l’évaluation"),
        type="primary",
        icon=":material/play_arrow:",
        key="eval_start",
        disabled=not dataset,
    ):
        start(
            RunConfig(
                dataset=Path(dataset).expanduser().resolve(),
                drafter=str(drafter) if llm else "offline",
                limit=int(limit) if limit else None,
                seed=int(seed),
                workers=int(workers),
                threshold=float(threshold) if threshold is not None else None,
            )
        )
    st.caption(
        md(
            L(
                f"Runs are written to {RUNS}: manifest, per-case results, summary and reports. The CLI does the same: souffleur eval run --dataset DIR.",
                f"Les évaluations sont écrites dans {RUNS} : manifeste, résultats par cas, synthèse et rapports. La CLI fait de même : souffleur eval run --dataset DIR.",
            )
        )
    )
    replay_section(str(drafter) if llm else "offline")
    unfinished = [r for r in runs if not r.complete]
    if unfinished:
        st.subheader(L("Interrupted runs", "Évaluations interrompues"))
        for r in unfinished:
            left, right = st.columns([4, 1], vertical_alignment="center")
            left.text(r.label)
            if right.button(
                L("Resume", "Reprendre"), key=f"eval_resume_{r.name}", icon=":material/replay:"
            ):
                start(browse.resume_config(r))


def results_tab(runs: list[browse.RunInfo]) -> None:
    notice = S.pop("eval_notice", None)
    if notice:
        st.success(md(notice), icon=":material/check_circle:")
    info = run_picker(runs, "results")
    run = browse.load_run(info.folder)
    s, m = run.summary, run.manifest
    st.caption(
        md(
            f"{m['mode']['drafter']} drafter · {m['mode']['judge']} judge · git {str(m['git_sha'])[:10]} · dataset {str(m['dataset_hash'])[:10]} · KB {str(m['kb_hash'])[:10]} · embedder {m['embedder']} · seed {m['seed']} · intervals: {s['interval_method']}"
        )
    )
    d = s["deflection"]
    top = st.columns(4)
    top[0].metric(
        L("Deflection rate", "Taux de déflexion"),
        point(d["deflection_rate"]),
        border=True,
        help=L("95 % interval: ", "Intervalle à 95 % : ") + d["deflection_rate"].fmt(),
    )
    top[1].metric(
        L("False-deflection rate", "Taux de fausse déflexion"),
        point(d["false_deflection_rate"]),
        border=True,
        help=L("Of the answered cases; 95 % interval: ", "Des cas répondus ; intervalle : ")
        + d["false_deflection_rate"].fmt(),
    )
    top[2].metric(
        L("Coverage", "Couverture"),
        point(d["coverage"]),
        border=True,
        help=L("Answered without a human; 95 % interval: ", "Répondu sans humain ; intervalle : ")
        + d["coverage"].fmt(),
    )
    top[3].metric(
        L("Threshold τ", "Seuil τ"),
        f"{run.threshold:.2f}",
        border=True,
        help=L("Below τ the copilot hands off to a human.", "Sous τ, le copilote passe la main."),
    )

    st.subheader(L("Metrics", "Métriques"))
    st.table(  # a static table wraps long values; its cells are Markdown: escaped
        pd.DataFrame(
            [(md(k), md(v)) for k, v in summary_rows(s)], columns=["metric", "value [95% CI]"]
        ),
        hide_index=True,
    )
    for note in browse.summary_notes(s):
        st.caption(md(note))

    st.subheader(L("Plots", "Graphiques"))
    charts = report_charts(s, run.records)
    for row in range(0, len(charts), 2):  # a row of columns at a time: stacks in reading order
        for col, svg in zip(st.columns(2), charts[row : row + 2], strict=False):
            col.image(svg)  # our SVG, drawn from numbers: shown as an image, never as HTML

    st.subheader(L("By expected action", "Par action attendue"))
    st.dataframe(
        pd.DataFrame(s["by_action"]),
        hide_index=True,
        column_config={
            "mean_confidence": st.column_config.NumberColumn("mean confidence", format="%.2f")
        },
    )
    with st.expander(L("How the metrics are counted", "Comment les métriques sont comptées")):
        st.markdown("\n".join(f"- {md(c)}" for c in CHOICES))
    report = info.folder / "report.html"
    if report.is_file():
        st.download_button(
            L("Download report.html", "Télécharger report.html"),
            data=report.read_bytes(),
            file_name=f"{info.name}-report.html",
            mime="text/html",
            icon=":material/download:",
            on_click="ignore",
            key="eval_download",
        )


def _cases_table(rows: list[dict[str, Any]], key: str) -> None:
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        key=key,
        column_config={"confidence": st.column_config.NumberColumn(format="%.2f")},
    )


def cases_tab(runs: list[browse.RunInfo]) -> None:
    info = run_picker(runs, "cases")
    run = browse.load_run(info.folder)
    tau = run.threshold
    st.subheader(
        L(
            "Worst failures (false deflections, most confident first)",
            "Pires échecs (fausses déflexions, les plus confiantes d’abord)",
        )
    )
    fails = browse.failure_rows(run.records, tau)
    if fails:
        _cases_table(fails, "eval_failures")
    else:
        st.caption(
            L(
                f"No false deflection at τ = {tau:.2f}.",
                f"Aucune fausse déflexion à τ = {tau:.2f}.",
            )
        )
    held = browse.held_back_rows(run.records, tau)
    if held:
        st.subheader(
            L(
                "Most confident wrong drafts held back by the threshold",
                "Brouillons erronés les plus confiants retenus par le seuil",
            )
        )
        st.caption(
            L(
                "Shown to the agent as “needs review”: a lower threshold would send them.",
                "Montrés à l’agent « à revoir » : un seuil plus bas les enverrait.",
            )
        )
        _cases_table(held, "eval_held_back")
    with st.expander(L("All cases", "Tous les cas")):
        _cases_table(browse.case_rows(run.records, tau), "eval_cases")
    ids = browse.case_order(run.records, tau)
    if not ids:
        return
    labels = {r["id"]: f"{r['id']} · {browse.outcome_label(r, tau)}" for r in run.records}
    picked = st.selectbox(
        L("Case", "Cas"),
        ids,
        format_func=lambda i: labels.get(i, i),
        key="eval_case",
        help=L("The worst failures first.", "Les pires échecs d’abord."),
    )
    rec = run.record(str(picked))
    if rec is not None:
        case_detail(rec, tau)


def case_detail(r: dict[str, Any], tau: float) -> None:
    st.subheader(md(f"{L('Case', 'Cas')} {r['id']}"))
    cols = st.columns([1, 2, 1, 1])
    cols[0].metric(L("Confidence", "Confiance"), f"{r['confidence']:.2f}", help=f"τ = {tau:.2f}")
    cols[1].metric(L("Outcome", "Issue"), browse.outcome_label(r, tau))
    cols[2].metric(L("Expected action", "Action attendue"), str(r["expected_action"]))
    cols[3].metric(
        L("Needs a human (gold)", "Nécessite un humain (réf.)"),
        L("yes", "oui") if r["should_escalate"] else L("no", "non"),
    )
    if r["status"] != "scored" or r.get("unscored_reason"):
        st.warning(md(f"{r['status']}: {r.get('unscored_reason') or ''}"))
    st.caption(L("Customer's message", "Message du client"))
    st.text(r.get("question", ""))
    st.caption(L("Draft", "Brouillon"))
    st.code(r["draft"] or L("(no draft)", "(pas de brouillon)"), language=None, wrap_lines=True)

    policy = ctx.ws.policies.current()
    reasons = [
        f"{policy.label(code, 'fr' if fr else 'en')} ({code})" for code in r.get("reasons") or []
    ]
    lines = [
        (L("Copilot escalated: ", "Le copilote a escaladé : ") + ("; ".join(reasons) or "–"))
        if r["escalate"]
        else L("Copilot did not escalate.", "Le copilote n’a pas escaladé."),
        L("Gold reason: ", "Motif attendu : ") + (r.get("gold_reason") or "–"),
        L("Retrieved: ", "Récupérés : ") + (", ".join(r.get("retrieved_doc_ids") or []) or "–"),
        L("Reference: ", "Référence : ") + (", ".join(r.get("reference_doc_ids") or []) or "–"),
    ]
    timings = r.get("timings") or {}
    if timings.get("total_ms") is not None:
        lines.append(f"{L('Latency', 'Latence')}: {timings['total_ms']:.1f} ms")
    st.markdown("  \n".join(md(x) for x in lines))

    cites = browse.citation_rows(r)
    st.caption(L(f"Citations ({len(cites)})", f"Citations ({len(cites)})"))
    if cites:
        st.dataframe(pd.DataFrame(cites), hide_index=True, width="stretch", key="eval_citations")
    st.caption(L("Verdicts", "Verdicts"))
    st.markdown(md(browse.verdict_line(r.get("verdicts"))))
    with st.expander(L("All verdicts (JSON)", "Tous les verdicts (JSON)")):
        st.json(r.get("verdicts") or {})


def compare_tab(runs: list[browse.RunInfo]) -> None:
    done = [r for r in runs if r.complete]
    if len(done) < 2:
        st.info(
            L(
                "Two finished runs are needed: run an eval twice (another drafter, threshold or version of the code), then compare them here.",
                "Il faut deux évaluations terminées : lancez-en deux (autre rédacteur, seuil ou version du code), puis comparez-les ici.",
            ),
            icon=":material/compare_arrows:",
        )
        return
    by_name = {r.name: r for r in done}
    names = list(by_name)
    a = st.selectbox(
        L("Run A (baseline)", "Évaluation A (référence)"),
        names,
        index=1,
        format_func=lambda n: by_name[n].label,
        key="eval_cmp_a",
        persist_state="session",
    )
    b = st.selectbox(
        L("Run B (candidate)", "Évaluation B (candidate)"),
        names,
        index=0,
        format_func=lambda n: by_name[n].label,
        key="eval_cmp_b",
        persist_state="session",
    )
    margin_pp = st.columns(4)[0].number_input(
        L("Gate margin (pp)", "Marge du gate (pp)"),
        min_value=0.0,
        max_value=50.0,
        value=2.0,
        step=0.5,
        key="eval_margin",
        persist_state="session",
        help=L(
            "Non-inferiority margin: B fails when the upper bound of its FDR delta exceeds +margin, or the lower bound of its deflection delta is below −margin. B also fails on a significant rise in false deflections per case, leaking drafts or forbidden facts, or a significant drop in escalation recall; a check that cannot be measured (n/a) is not a pass.",
            "Marge de non-infériorité : B échoue si la borne haute du delta de FDR dépasse +marge, ou si la borne basse du delta de déflexion passe sous −marge. B échoue aussi sur une hausse significative des fausses déflexions par cas, des fuites ou des faits interdits, ou une baisse significative du rappel d’escalade ; un contrôle non mesurable (n/a) n’est pas un succès.",
        ),
    )
    if a is None or b is None or a == b:
        st.info(L("Pick two different runs.", "Choisissez deux évaluations différentes."))
        return
    ra, rb = by_name[str(a)], by_name[str(b)]
    with st.spinner(L("Comparing (paired bootstrap)…", "Comparaison (bootstrap apparié)…")):
        c = browse.compare(ra.folder, rb.folder, float(margin_pp) / 100)
    ma, mb = browse.load_run(ra.folder).manifest, browse.load_run(rb.folder).manifest
    for note in browse.comparison_notes(ma, mb, c):
        st.warning(md(note), icon=":material/warning:")
    st.caption(
        md(
            f"{c['n_paired']} paired cases · τ A {c['thresholds']['a']:.2f}, B {c['thresholds']['b']:.2f}"
        )
    )
    gate = c["gate"]
    verdict = md(
        f"Gate (margin {100 * gate['margin']:.1f} pp): "
        + ("PASS" if gate["passed"] else "FAIL")
        + f" — {gate['reason']}"
    )
    if gate["passed"]:
        st.success(verdict, icon=":material/check_circle:")
    else:
        st.error(verdict, icon=":material/block:")
    st.dataframe(
        pd.DataFrame(browse.gate_rows(c)),
        hide_index=True,
        width="stretch",
        height="content",
        key="eval_gate",
    )
    st.subheader(L("Metrics, B − A", "Métriques, B − A"))
    st.dataframe(
        pd.DataFrame(browse.comparison_rows(c)),
        hide_index=True,
        width="stretch",
        height="content",
        key="eval_comparison",
    )
    lat = c["latency"]
    if lat.get("a_p50") is not None and lat.get("b_p50") is not None:
        cols = st.columns(3)
        cols[0].metric(
            L("Latency p50 (B)", "Latence p50 (B)"),
            f"{lat['b_p50']:.1f} ms",
            delta=f"{lat['b_p50'] - lat['a_p50']:+.1f} ms",
            delta_color="inverse",
            border=True,
        )
        cols[1].metric(
            L("Latency p95 (B)", "Latence p95 (B)"),
            f"{lat['b_p95']:.1f} ms",
            delta=f"{lat['b_p95'] - lat['a_p95']:+.1f} ms",
            delta_color="inverse",
            border=True,
        )
        cols[2].metric(
            "Wilcoxon p",
            "–" if lat.get("wilcoxon_p") is None else f"{lat['wilcoxon_p']:.3f}",
            border=True,
        )
    changed = c["changed_cases"]
    st.subheader(L(f"Cases that changed ({len(changed)})", f"Cas qui ont changé ({len(changed)})"))
    if changed:
        st.dataframe(
            pd.DataFrame(changed).rename(columns={"a": "A", "b": "B"}),
            hide_index=True,
            width="stretch",
            key="eval_changed",
        )
    else:
        st.caption(L("No case changed outcome.", "Aucun cas n’a changé d’issue."))


# -- layout --------------------------------------------------------------------------
st.title(t("evals_title"))
runs = browse.list_runs(RUNS)
finished = [r for r in runs if r.complete]
if "eval_next_tab" in S:
    S["eval_tab"] = S.pop("eval_next_tab")
tabs = st.tabs(
    list(TABS.values()),
    key="eval_tab",
    on_change="rerun",
    default=TABS["results"] if finished else TABS["run"],
)
run_t, results_t, cases_t, compare_t = tabs
if run_t.open:
    with run_t:
        run_tab(runs)
if results_t.open:
    with results_t:
        if finished:
            results_tab(finished)
        else:
            st.info(
                L(
                    "No finished run yet: start one in the first tab.",
                    "Aucune évaluation terminée : lancez-en une dans le premier onglet.",
                ),
                icon=":material/science:",
            )
if cases_t.open:
    with cases_t:
        if finished:
            cases_tab(finished)
        else:
            st.info(
                L("No finished run yet.", "Aucune évaluation terminée."), icon=":material/science:"
            )
if compare_t.open:
    with compare_t:
        compare_tab(runs)
