"""What every page shares: the cached workspace, the signed-in user, UI strings, safe text.

Layout helpers only; every decision is a call into ``copilot`` or ``knowledge``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import streamlit as st

from copilot import Settings, Workspace, load_settings, open_workspace
from copilot.channels.integrations import Integrations, connect
from copilot.desk.access import (
    DEFAULT_USERS,
    ROLE_LABELS,
    USERS_FILE,
    User,
    load_users,
    user_from_identity,
)
from copilot.desk.accounts import Accounts
from copilot.desk.desk import Desk

# -- UI strings (English, and French when SOUFFLEUR_UI_LANG=fr) ----------------------
STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "tagline": "The prompter for customer-service agents",
        "sign_in": "Sign in",
        "sign_in_intro": "Sign in with your user name and password. Each role sees its own pages.",
        "user": "User",
        "password": "Password",
        "sign_out": "Sign out",
        "sso_sign_in": "Sign in with single sign-on",
        "sso_unknown": "{email} is signed in but has no role in Souffleur. Ask an administrator to add this e-mail to users.toml.",
        "no_pages": "Your roles give access to no page.",
        "page_desk": "Agent desk",
        "page_knowledge": "Knowledge",
        "page_analytics": "Analytics",
        "page_evals": "Evals",
        "inbox": "Inbox",
        "open_count": "{n} waiting",
        "show_answered": "Show answered",
        "no_users": "No user can sign in yet. An administrator creates the first one on the server: `souffleur users add NAME --role admin` (then agents with `--role agent`). To try Souffleur on the demo store, run `make run`: it offers demo users.",
        "demo_users": "**Demo mode**: pick a demo user, no password. Production workspaces use accounts made with `souffleur users add`.",
        "inbox_empty": "No customer is waiting. Start a conversation with **New conversation**, or show the answered ones.",
        "answered": "answered",
        "new_conversation": "New conversation",
        "customer": "Customer",
        "channel": "Channel",
        "first_message": "First message",
        "start": "Start the conversation",
        "customer_says": "Customer says…",
        "customer_says_help": "Post a message as the customer (demo and training): a draft follows.",
        "post_customer": "Post as the customer",
        "visitor": "Visitor (not identified)",
        "language": "Language",
        "orders": "Orders",
        "no_orders": "No order on this account.",
        "tracking": "tracking",
        "eta": "expected",
        "delivered": "delivered",
        "copilot": "Copilot",
        "draft": "Draft reply",
        "your_reply": "Your reply",
        "send": "Send",
        "regenerate": "Regenerate",
        "escalate": "Escalate",
        "discard": "Discard",
        "tone": "Tone",
        "length": "Length",
        "emoji": "Emoji",
        "auto": "Auto",
        "formal": "Formal (vous)",
        "casual": "Casual (tu)",
        "shorter": "Shorter",
        "normal": "Normal",
        "longer": "Longer",
        "on": "On",
        "off": "Off",
        "needs_review": "Needs review",
        "could_send": "Could be sent",
        "review_hint_help": "Read from the retrieval evidence; on the evaluation sets, drafts with this signal are wrong about twice as often.",
        "escalate_to": "Escalate → {queue}",
        "no_escalation": "No escalation",
        "confidence": "confidence {p}",
        "why_escalate": "Why escalate",
        "handoff": "Handoff summary",
        "sources": "Sources ({n})",
        "no_sources": "No cited source: check the facts before sending.",
        "supports": "Supports",
        "open_source": "Open the source",
        "no_draft": "Nothing to answer: the last message is not from the customer.",
        "next_conversation": "Next waiting conversation",
        "discarded_note": "Draft discarded. Write your own reply, or click Regenerate.",
        "select_conversation": "Select a conversation in the inbox.",
        "sent_ok": "Reply sent.",
        "escalated_ok": "Escalated to {queue}.",
        "discarded_ok": "Draft discarded.",
        "conflict": "This conversation was changed in another window or by another agent. It has been reloaded: read the latest messages, then act again.",
        "unsent": "Your unsent text",
        "status_escalated": "Escalated to {queue}",
        "drafting": "Drafting…",
        "offline_drafter": "offline drafter",
        "llm_unavailable": "The language model was unavailable: this is the offline draft.",
        "model_drafting": "The language model is still drafting: its draft replaces this one when it comes, unless you have started editing.",
        "model_ready": "The language model's draft is ready. You had started editing, so it was not put in your place.",
        "use_model_draft": "Use the model's draft",
        "keep_mine": "Keep mine",
        "knowledge_title": "Knowledge",
        "analytics_title": "Analytics",
        "evals_title": "Evals",
    },
    "fr": {
        "tagline": "Le souffleur des conseillers du service client",
        "sign_in": "Se connecter",
        "sign_in_intro": "Connectez-vous avec votre nom d’utilisateur et votre mot de passe. Chaque rôle voit ses propres pages.",
        "user": "Utilisateur",
        "password": "Mot de passe",
        "sign_out": "Se déconnecter",
        "sso_sign_in": "Se connecter (authentification unique)",
        "sso_unknown": "{email} est connecté mais n’a aucun rôle dans Souffleur. Demandez à un administrateur d’ajouter cet e-mail à users.toml.",
        "no_pages": "Vos rôles ne donnent accès à aucune page.",
        "page_desk": "Poste agent",
        "page_knowledge": "Connaissances",
        "page_analytics": "Statistiques",
        "page_evals": "Évaluations",
        "inbox": "Conversations",
        "open_count": "{n} en attente",
        "show_answered": "Afficher les conversations répondues",
        "no_users": "Personne ne peut encore se connecter. Un administrateur crée le premier compte sur le serveur : `souffleur users add NOM --role admin` (puis les agents avec `--role agent`). Pour essayer Souffleur sur la boutique de démonstration, lancez `make run` : il propose des utilisateurs de démonstration.",
        "demo_users": "**Mode démonstration** : choisissez un utilisateur, sans mot de passe. En production, les comptes se créent avec `souffleur users add`.",
        "inbox_empty": "Aucun client n'attend. Démarrez une conversation avec **Nouvelle conversation**, ou affichez celles qui ont reçu une réponse.",
        "answered": "répondu",
        "new_conversation": "Nouvelle conversation",
        "customer": "Client",
        "channel": "Canal",
        "first_message": "Premier message",
        "start": "Démarrer la conversation",
        "customer_says": "Le client dit…",
        "customer_says_help": "Publier un message comme le client (démo, formation) : un brouillon suit.",
        "post_customer": "Publier comme le client",
        "visitor": "Visiteur (non identifié)",
        "language": "Langue",
        "orders": "Commandes",
        "no_orders": "Aucune commande sur ce compte.",
        "tracking": "suivi",
        "eta": "prévue",
        "delivered": "livrée",
        "copilot": "Copilote",
        "draft": "Brouillon de réponse",
        "your_reply": "Votre réponse",
        "send": "Envoyer",
        "regenerate": "Régénérer",
        "escalate": "Escalader",
        "discard": "Écarter",
        "tone": "Ton",
        "length": "Longueur",
        "emoji": "Emoji",
        "auto": "Auto",
        "formal": "Vouvoiement",
        "casual": "Tutoiement",
        "shorter": "Plus court",
        "normal": "Normal",
        "longer": "Plus long",
        "on": "Oui",
        "off": "Non",
        "needs_review": "À relire",
        "could_send": "Peut partir",
        "review_hint_help": "Déduit des indices de la recherche ; sur les jeux d'évaluation, les brouillons qui portent ce signal sont faux environ deux fois plus souvent.",
        "escalate_to": "Escalader → {queue}",
        "no_escalation": "Pas d’escalade",
        "confidence": "confiance {p}",
        "why_escalate": "Pourquoi escalader",
        "handoff": "Résumé de transmission",
        "sources": "Sources ({n})",
        "no_sources": "Aucune source citée : vérifiez les faits avant d’envoyer.",
        "supports": "Appuie",
        "open_source": "Ouvrir la source",
        "no_draft": "Rien à répondre : le dernier message n’est pas du client.",
        "next_conversation": "Conversation suivante en attente",
        "discarded_note": "Brouillon écarté. Rédigez votre réponse, ou cliquez sur Régénérer.",
        "select_conversation": "Choisissez une conversation dans la boîte de réception.",
        "sent_ok": "Réponse envoyée.",
        "escalated_ok": "Escaladé vers {queue}.",
        "discarded_ok": "Brouillon écarté.",
        "conflict": "Cette conversation a été modifiée dans une autre fenêtre ou par un autre agent. Elle a été rechargée : lisez les derniers messages, puis recommencez.",
        "unsent": "Votre texte non envoyé",
        "status_escalated": "Escaladé vers {queue}",
        "drafting": "Rédaction…",
        "offline_drafter": "rédacteur hors ligne",
        "llm_unavailable": "Le modèle de langue était indisponible : voici le brouillon hors ligne.",
        "model_drafting": "Le modèle de langue rédige encore : son brouillon remplacera celui-ci à son arrivée, sauf si vous avez commencé à le modifier.",
        "model_ready": "Le brouillon du modèle de langue est prêt. Vous aviez commencé à modifier le vôtre : il ne l’a pas remplacé.",
        "use_model_draft": "Prendre le brouillon du modèle",
        "keep_mine": "Garder le mien",
        "knowledge_title": "Connaissances",
        "analytics_title": "Statistiques",
        "evals_title": "Évaluations",
    },
}

BadgeColor = Literal["red", "orange", "yellow", "blue", "green", "violet", "gray"]
BAND_COLORS: dict[str, BadgeColor] = {
    "fast": "green",
    "warning": "orange",
    "late": "red",
    "answered": "gray",
}
LANG_NAMES = {"en": {"fr": "French", "en": "English"}, "fr": {"fr": "français", "en": "anglais"}}


# -- text that comes from customers or documents -------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:=&^\"'])")
_LINE_BREAK = re.compile(
    r"(?<!\n)\n(?!\n)"
)  # a single newline: a hard break; blank lines stay paragraphs


def md_text(text: str) -> str:
    """``text`` escaped for ``st.markdown``: shown exactly as typed, never as markup.

    Every Markdown/HTML-significant ASCII character gets a backslash (CommonMark renders an
    escaped punctuation character literally), so ``<script>``, ``![x](http://…)`` images,
    ``$…$`` LaTeX and ``:red[…]`` directives all come out as plain text; line breaks stay.
    """
    return _LINE_BREAK.sub("  \n", _MD_SPECIAL.sub(r"\\\1", text.replace("\r\n", "\n")))


def safe_url(url: str | None) -> str | None:
    """An http(s) URL that can sit inside a Markdown link, else None."""
    if url and re.fullmatch(r"https?://[^\s()<>\[\]\"'`]+", url):
        return url
    return None


def fmt_wait(seconds: float | None, t: Callable[[str], str]) -> str:
    if seconds is None:
        return t("answered")
    s = int(max(seconds, 0))
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


# -- the workspace, once per process and per configuration ---------------------------
@dataclass
class Services:
    settings: Settings
    ws: Workspace
    desk: Desk
    links: Integrations
    accounts: Accounts


@st.cache_resource(show_spinner="Opening the workspace…", max_entries=4)
def _services(key: str, _settings: Settings) -> Services:
    """Keyed on the settings: a test (or a reconfigured process) never reuses another data dir."""
    ws = open_workspace(_settings)
    desk = Desk(ws)
    # a reply sent from this desk reaches the customer: Chatwoot, the webhook (the outbox
    # worker of this process sends it; `souffleur serve` may run another on the same database)
    links = connect(desk, _settings)
    links.start()
    return Services(_settings, ws, desk, links, Accounts(ws.engine))


def services() -> Services:
    settings = load_settings()
    return _services(settings.model_dump_json(), settings)


# -- who is there --------------------------------------------------------------------
def oidc_configured() -> bool:
    """True when ``.streamlit/secrets.toml`` has an ``[auth]`` section (``st.login`` works)."""
    try:
        return bool(st.secrets.load_if_toml_exists() and "auth" in st.secrets)
    except (FileNotFoundError, KeyError):
        return False


@dataclass(frozen=True)
class Roster:
    """Who may sign in, and from where: the accounts made with `souffleur users add`, else a
    users.toml file, else (demo mode only) the one-click demo users, else nobody yet."""

    users: dict[str, User]
    source: Literal["accounts", "file", "demo", "none"]


def roster(svc: Services) -> Roster:
    made = svc.accounts.users()
    if made:
        return Roster(made, "accounts")
    path = svc.settings.data_dir / USERS_FILE
    if path.exists():
        return Roster(load_users(path), "file")
    if svc.settings.demo_users:
        return Roster({u.username: u for u in DEFAULT_USERS}, "demo")
    return Roster({}, "none")


def users(svc: Services) -> dict[str, User]:
    return roster(svc).users


def current_user(known: dict[str, User]) -> User | None:
    """The signed-in user, or None.

    With OIDC configured, the identity comes from ``st.user`` (``st.login``) and is mapped to
    a configured user by e-mail; otherwise from the local sign-in kept in the session.
    """
    if oidc_configured():
        if not st.user.is_logged_in:
            return None
        return user_from_identity(known, st.user.to_dict())
    name = st.session_state.get("user")
    return known.get(name) if isinstance(name, str) else None


# -- per-run context for the pages ---------------------------------------------------
@dataclass
class Context:
    settings: Settings
    ws: Workspace
    desk: Desk
    user: User
    lang: str

    def t(self, key: str, **values: Any) -> str:
        return translate(self.lang, key, **values)


def context() -> Context:
    """What a page needs; a page opened without a signed-in user stops with a notice."""
    svc = services()
    user = current_user(users(svc))
    lang = svc.settings.ui_lang
    if user is None:
        st.info(STRINGS[lang]["sign_in_intro"])
        st.stop()
    return Context(svc.settings, svc.ws, svc.desk, user, lang)


def translate(lang: str, key: str, **values: Any) -> str:
    """The UI string ``key`` in ``lang`` (English when missing), formatted with ``values``."""
    text = STRINGS.get(lang, STRINGS["en"]).get(key) or STRINGS["en"].get(key, key)
    return text.format(**values) if values else text


def role_names(user: User, lang: str) -> str:
    return ", ".join(
        ROLE_LABELS[r][lang if lang in ("en", "fr") else "en"] for r in sorted(user.roles)
    )
