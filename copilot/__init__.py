"""Copilot: a conversation in, a Suggestion (draft, citations, escalation, confidence) out."""

from copilot.config import Settings, load_settings, setup_offline_tiktoken
from copilot.workspace import Workspace, open_workspace

__all__ = [
    "Settings",
    "Workspace",
    "load_settings",
    "open_workspace",
    "setup_offline_tiktoken",
]
