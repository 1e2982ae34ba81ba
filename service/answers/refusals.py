"""What a refusal says: the reason the evidence does not answer, in the question's language,
and the answer text around it (the nearest passages are still cited, for reference)."""

from __future__ import annotations

from typing import Literal

from .signals import Signals

# What a refusal rests on: a term the reports never mention, an answer of the kind asked
# (a figure, a date, a person) that no sentence gives, or evidence that is only weak.
Cause = Literal["missing", "unheld", "weak"]

NOT_FOUND_ZH = "报告中没有找到能回答这个问题的内容。以下是最接近的段落，仅供参考。"
NOT_FOUND_EN = (
    "The report does not appear to answer this question. "
    "The closest passages are listed below for reference."
)
_FOR_REFERENCE_ZH = "以下是最接近的段落，仅供参考。"
_FOR_REFERENCE_EN = "The closest passages are listed below for reference."


def not_found(lang: str, missing: list[str], where: str | None = None) -> str:
    """The text of a refusal for what the reports never mention (missing), or a plain one."""
    if missing:
        if lang == "en":
            listed = ", ".join(m.removesuffix("年") for m in missing)
            return f"The report does not mention {listed}, so it cannot answer this. " + (
                _FOR_REFERENCE_EN
            )
        listed = "、".join(missing)
        return f"{where or '报告'}中没有提到{listed}，无法回答这个问题。" + _FOR_REFERENCE_ZH
    if where is not None:
        if lang == "en":
            return f"{where} does not appear to answer this question. " + _FOR_REFERENCE_EN
        return f"{where}中没有找到能回答这个问题的内容。" + _FOR_REFERENCE_ZH
    return NOT_FOUND_EN if lang == "en" else NOT_FOUND_ZH


def missing_reason(lang: str, missing: list[str], where: str | None) -> str:
    """The reason for what the reports never mention (verify.unsupported_terms)."""
    if lang == "en":
        listed = ", ".join(m.removesuffix("年") for m in missing)
        return f"{where or 'The report'} does not mention {listed}."
    return f"{where or '报告'}中没有提到{'、'.join(missing)}。"


def weak_reason(lang: str, where: str | None) -> str:
    """The reason when the evidence is only weak."""
    if lang == "en":
        return f"{where or 'The report'} does not appear to answer this question."
    return f"{where or '报告'}中没有找到能回答这个问题的内容。"


def refusal_text(lang: str, reason: str | None, cause: Cause | None, where: str | None) -> str:
    """A refusal's answer text: its reason, that it cannot answer, and the passages' note."""
    if reason is None or cause in (None, "weak"):
        return not_found(lang, [], where)
    if lang == "en":
        return reason.removesuffix(".") + ", so it cannot answer this. " + _FOR_REFERENCE_EN
    return reason.removesuffix("。") + "，无法回答这个问题。" + _FOR_REFERENCE_ZH


def explain(signals: Signals, where: str | None = None) -> tuple[Cause, str]:
    """Why the evidence does not answer, as a sentence in the question's language.

    The first that holds: a salient term the searched reports never mention (`报告没有提到
    “最低工资”。`); a question asking for a figure, date or person that no sentence about
    its subject gives (`报告没有给出出租车起步价的具体数字。`); else the evidence is weak.
    `where` names the report (default 报告, the report).
    """
    f = signals.features
    en = signals.lang == "en"
    if signals.missing is not None:
        if en:
            return "missing", f"{where or 'The report'} does not mention “{signals.missing}”."
        return "missing", f"{where or '报告'}没有提到“{signals.missing}”。"
    if signals.asked is not None and (f.get("focus_unheld", 0.0) or not signals.best_holds):
        return "unheld", _unheld(signals, where)
    return "weak", weak_reason(signals.lang, where)


def _unheld(signals: Signals, where: str | None) -> str:
    asked = signals.asked
    if signals.lang == "en":
        what = {"date": "date", "person": "name"}.get(asked or "", "figure")
        return f"{where or 'The report'} gives no {what} that answers this question."
    subject = signals.subject
    if asked == "person":
        return f"{where or '报告'}没有说明{subject or '问题问的人'}是谁。"
    what = "具体时间" if asked == "date" else "具体数字"
    return f"{where or '报告'}没有给出{subject + '的' if subject else ''}{what}。"
