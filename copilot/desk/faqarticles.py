"""An article to write for a knowledge gap: titled by its first question, the customers'
questions listed, saved as a Markdown file once the manager has written the answer."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from copilot.desk.faqtable import FaqDraftError
from copilot.desk.gaps import Gap
from copilot.pipeline.pii import PLACEHOLDER
from knowledge import detect_language
from knowledge.loaders import slug

ANSWER_PROMPT = {"en": "(Write the answer here.)", "fr": "(Écrivez la réponse ici.)"}


@dataclass(frozen=True)
class ArticleDraft:
    """A Markdown article to write for a knowledge gap: a title and the customers' questions."""

    title: str
    body: str
    lang: str

    def file(self, title: str, body: str, *, taken: Collection[str] = ()) -> tuple[str, bytes]:
        """The Markdown file to upload (name, content) once the manager has written it; an
        article with no title, whose answer is still to write, or whose file name is one of
        ``taken`` (the knowledge base's files: an upload of that name would replace it), is
        refused."""
        if not title.strip():
            raise FaqDraftError("The article has no title.", "Give it one, then save.")
        name = f"{slug(title)[:60]}.md"
        if name in taken:
            raise FaqDraftError(
                f"The knowledge base already has a file named {name}; saving would replace it.",
                "Change the title, or edit that document from the Documents tab.",
            )
        if not body.strip() or ANSWER_PROMPT[self.lang] in body:
            raise FaqDraftError(
                "The article has no answer yet.",
                f"Replace '{ANSWER_PROMPT[self.lang]}' with the answer, then save.",
            )
        text = f"---\nlang: {self.lang}\n---\n# {title.strip()}\n\n{body.strip()}\n"
        return name, text.encode("utf-8")


def article_from_gap(gap: Gap) -> ArticleDraft:
    """An article to write for a gap: titled by its first question, its questions listed."""
    first = re.sub(r"\s+", " ", PLACEHOLDER.sub("", gap.example)).strip()
    lang = "fr" if detect_language(first)[0] == "fr" else "en"
    title = re.split(r"(?<=[?.!])\s", first, maxsplit=1)[0][:80].strip()
    asked = "Questions des clients" if lang == "fr" else "Customers asked"
    lines = [f"{asked}:", "", *(f"- {q}" for q in gap.examples), "", ANSWER_PROMPT[lang]]
    return ArticleDraft(title[:1].upper() + title[1:], "\n".join(lines), lang)
