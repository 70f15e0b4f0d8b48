"""Read knowledge files into :class:`~knowledge.types.Document` objects.

One entry point, :func:`load_source`, takes a file name and its bytes (an upload or a file on
disk) and returns the documents it holds, or raises :class:`~knowledge.errors.IngestError`
naming the file, the problem and the fix. Nothing here touches the index.

``load``: the entry point and the loader of each extension; one module per format family:
``markup`` (Markdown, text, HTML), ``documents`` (PDF, Word), ``faq`` (CSV and Excel FAQ
tables), ``records`` (JSON, JSONL); shared by them: ``reading`` (budget, decoding, names) and
``cleaning`` (markup and control characters removed).
"""

from knowledge.loaders.cleaning import clean_text, strip_controls
from knowledge.loaders.documents import MAX_COMPRESSION_RATIO, MAX_UNZIPPED_BYTES
from knowledge.loaders.faq import ANSWER_COLUMNS, LANG_COLUMNS, QUESTION_COLUMNS
from knowledge.loaders.load import load_path, load_source, supported_extensions
from knowledge.loaders.reading import (
    DEFAULT_BUDGET_S,
    DEFAULT_MAX_BYTES,
    Loaded,
    OverBudget,
    markdown_table,
    slug,
)

__all__ = [
    "ANSWER_COLUMNS",
    "DEFAULT_BUDGET_S",
    "DEFAULT_MAX_BYTES",
    "LANG_COLUMNS",
    "MAX_COMPRESSION_RATIO",
    "MAX_UNZIPPED_BYTES",
    "QUESTION_COLUMNS",
    "Loaded",
    "OverBudget",
    "clean_text",
    "load_path",
    "load_source",
    "markdown_table",
    "slug",
    "strip_controls",
    "supported_extensions",
]
