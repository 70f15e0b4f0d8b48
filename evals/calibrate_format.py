"""The calibration report as the CLI prints it (``souffleur calibrate``): per set and protocol,
deflection and FDR with their intervals, coverage, ECE and AURC."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _effective_line(eff: dict[str, float]) -> str:
    return (
        f"errors' correlation within a group {eff['icc']:.2f}: the {eff['n']} cases weigh as "
        f"{eff['n'] / eff['design_effect']:.0f} independent ones (design effect {eff['design_effect']:.2f})"
    )


def _risk_line(at_coverage: Sequence[dict[str, float]]) -> str:
    return "; ".join(
        f"{100 * a['coverage']:.0f}%: FDR {100 * a['fdr']:.1f}% (<= {100 * a['fdr_upper']:.1f}%)"
        for a in at_coverage
    )


def format_recalibration(r: dict[str, Any]) -> str:
    d = r["deflection"]
    verdict = (
        f"threshold {r['threshold']:.3f}: deflection {d['deflection_rate'].fmt()}, "
        f"FDR {d['false_deflection_rate'].fmt()}"
        if r["threshold"] <= 1.0
        else "no threshold keeps the upper bound under the target: every draft needs review"
    )
    return "\n".join(
        [
            f"target: false-deflection rate upper 95% bound <= {100 * r['target_fdr']:.0f}%; "
            "the model is kept, only its threshold is chosen, on cases it was not fitted on",
            _effective_line(r["effective"]),
            verdict,
            f"ECE {r['calibration'].get('ece', 0):.3f}, Brier {r['calibration'].get('brier', 0):.3f}, AURC {r['aurc'] or 0:.3f}",
            f"risk answering the most confident share: {_risk_line(r['at_coverage'])}",
        ]
    )


def format_report(r: dict[str, Any]) -> str:
    def est(e: Any) -> str:
        return e.fmt() if e is not None and hasattr(e, "fmt") else "n/a"

    lines = [f"target: false-deflection rate upper 95% bound <= {100 * r['target_fdr']:.0f}%", ""]
    lines.append(
        f"{'set / protocol':<44} {'deflection [95% CI]':<24} {'FDR [95% CI]':<24} {'coverage':<9} {'ECE':<6} AURC"
    )
    for name, s in r["sets"].items():
        ans = s["answer_everything"]
        lines.append(
            f"{name + ' — answer everything':<44} {est(ans['deflection_rate']):<24} {est(ans['false_deflection_rate']):<24} {'100%':<9}"
        )
        naive = s["naive_top_cosine"]
        for key, rule in (("deflection", "UCB"), ("deflection_point", "observed FDR")):
            nv = naive[key]
            lines.append(
                f"{name + f' — naive top cosine (in-sample τ, {rule} <= target)':<44} {est(nv['deflection_rate']):<24} {est(nv['false_deflection_rate']):<24} {est(nv['coverage']).split(' ')[0]:<9}"
            )
        lines.append(f"{'':<44} {_effective_line(s['effective'])}")
        cv = s["cv"]
        d = cv["deflection"]
        label_cv = f"{name} — model, grouped {cv['folds']}-fold CV"
        lines.append(
            f"{label_cv:<44} {est(d['deflection_rate']):<24} {est(d['false_deflection_rate']):<24} {est(d['coverage']).split(' ')[0]:<9} {cv['calibration'].get('ece', 0):<6.3f} {cv['aurc'] or 0:.3f}"
        )
        dp = cv["deflection_point"]
        lines.append(
            f"{name + ' — model, CV scores, observed FDR <= target':<44} {est(dp['deflection_rate']):<24} {est(dp['false_deflection_rate']):<24} {est(dp['coverage']).split(' ')[0]:<9}"
        )
        lines.append(
            f"{'':<44} ECE before (run's confidence) {s['ece_before']:.3f} -> after (CV) {cv['calibration'].get('ece', 0):.3f}, Brier {s['brier_before']:.3f} -> {cv['calibration'].get('brier', 0):.3f}; fold thresholds {', '.join(f'{t:.2f}' for t in cv['thresholds'])}"
        )
        lines.append(
            f"{'':<44} risk answering the most confident share (CV): {_risk_line(cv.get('at_coverage', []))}"
        )
        if cv.get("looser"):
            certified = "; ".join(
                f"{100 * t:.0f}%: deflection {est(d['deflection_rate'])}, FDR {est(d['false_deflection_rate'])}"
                for t, d in cv["looser"].items()
            )
            lines.append(f"{'':<44} certified the same way at a looser target: {certified}")
    for t in r["transfer"]:
        d = t["deflection"]
        name = f"fit {t['train']} -> test {t['test']}"
        if len(name) > 44:  # its own line, the figures under it
            lines.append(name)
            name = ""
        lines.append(
            f"{name:<44} {est(d['deflection_rate']):<24} {est(d['false_deflection_rate']):<24} {est(d['coverage']).split(' ')[0]:<9} {t['calibration'].get('ece', 0):<6.3f} {t['aurc'] or 0:.3f}"
        )
    return "\n".join(lines)
