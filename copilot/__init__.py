"""Copilot: a conversation in, a Suggestion (draft, citations, escalation, confidence) out."""

from copilot.config import Settings, load_settings, setup_offline_tiktoken
from copilot.workspace import Workspace, embedder_from_settings, open_workspace

__all__ = [
    "Settings",
    "Workspace",
    "embedder_from_settings",
    "load_settings",
    "open_workspace",
    "setup_offline_tiktoken",
]
