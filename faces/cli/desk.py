"""`souffleur serve | users | chat-link | tokens | outbox`: the help-desk side, its access and its
deliveries."""

from __future__ import annotations

import argparse
import sys

from copilot.config import Settings
from faces.cli.common import Subcommands, workspace_of
from knowledge import SouffleurError


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from faces.api import create_app

    app = create_app(workspace_of(args))
    print(f"Souffleur API on http://{args.host}:{args.port} (OpenAPI at /docs)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def cmd_tokens(args: argparse.Namespace) -> int:
    from copilot.desk.apikeys import TokenStore
    from knowledge import make_engine

    tokens = TokenStore(make_engine(args.settings.db_url))
    if args.action == "create":
        token, secret = tokens.create(args.name, args.role)
        print(f"token '{token.name}' ({token.role}: {', '.join(sorted(token.scopes))}):")
        print(secret)
        print("Keep it now: it is shown only once (the database keeps its hash).", file=sys.stderr)
    elif args.action == "revoke":
        if not tokens.revoke(args.name):
            raise SouffleurError(
                f"No live token named '{args.name}'.", "`souffleur tokens list` shows them."
            )
        print(f"revoked '{args.name}'")
    else:
        for t in tokens.list():
            state = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "live"
            used = f"last used {t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
            print(f"{t.name:24s} {t.role:12s} {t.hint}…  {state}, {used}")
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    from copilot.channels.outbox import Outbox
    from knowledge import make_engine

    settings: Settings = args.settings
    outbox = Outbox(make_engine(settings.db_url))
    rows = outbox.log(limit=args.limit, status=args.status, target=args.target)
    if not rows:
        print("nothing sent out yet" + (f" with status {args.status}" if args.status else ""))
    for d in rows:
        result = d.last_error or (f"HTTP {d.last_status_code}" if d.last_status_code else "")
        print(
            f"{d.id:6d} {d.created_at:%Y-%m-%d %H:%M:%S} {d.target:9s} {d.event:18s} "
            f"{d.status:9s} {d.attempts} tries  {d.conversation_id or '-':14s} {result}"
        )
    return 0


def _new_password(args: argparse.Namespace) -> str:
    """From standard input with --password-stdin (scripts), else typed twice at a prompt."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise SouffleurError("The two passwords differ.", "Run the command again.")
    return first


def cmd_users(args: argparse.Namespace) -> int:
    from copilot.desk.accounts import Accounts
    from knowledge import make_engine

    settings: Settings = args.settings
    accounts = Accounts(make_engine(settings.db_url))
    if args.action == "add":
        user = accounts.add(
            args.username,
            roles=args.role,
            password=_new_password(args),
            name=args.name or "",
            email=args.email or "",
        )
        print(f"added {user.username} ({', '.join(sorted(user.roles))})")
    elif args.action == "passwd":
        accounts.set_password(args.username, _new_password(args))
        print(f"password of {args.username} changed; its open sessions were ended")
    elif args.action in ("remove", "unlock"):
        done = (accounts.remove if args.action == "remove" else accounts.unlock)(args.username)
        if not done:
            raise SouffleurError(
                f"There is no user '{args.username}'.", "`souffleur users list` shows them."
            )
        print(
            f"removed {args.username}" if args.action == "remove" else f"unlocked {args.username}"
        )
    else:
        found = accounts.users()
        if not found:
            print("no users yet: souffleur users add NAME --role admin")
        for u in found.values():
            print(f"{u.username:16s} {u.name:24s} {u.email:28s} {', '.join(sorted(u.roles))}")
    return 0


def cmd_chat_link(args: argparse.Namespace) -> int:
    from copilot.channels.webchat import ChatIdentity

    identity = ChatIdentity.for_settings(args.settings)
    token = identity.sign(args.email, ttl_s=int(args.days * 86400))
    print(f"{args.base_url.rstrip('/')}/chat?c={token}")
    return 0


def add_parser(sub: Subcommands) -> None:
    s = sub.add_parser("serve", help="the HTTP API for help desks and channels (OpenAPI: /docs)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("users", help="the app's users (Argon2id password hashes)")
    usub = s.add_subparsers(dest="action", required=True)
    ua = usub.add_parser("add", help="a new user (asks for the password)")
    ua.add_argument("username")
    ua.add_argument(
        "--role",
        action="append",
        required=True,
        choices=["agent", "knowledge", "evaluator", "admin"],
        help="repeat for several roles",
    )
    ua.add_argument("--name", help="the name shown in the app")
    ua.add_argument("--email", help="matches the SSO identity when OIDC is configured")
    ua.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    up = usub.add_parser("passwd", help="set a new password (ends the user's sessions)")
    up.add_argument("username")
    up.add_argument("--password-stdin", action="store_true")
    for name, text in (("remove", "delete a user"), ("unlock", "lift a lockout")):
        usub.add_parser(name, help=text).add_argument("username")
    usub.add_parser("list", help="the users and their roles")
    s.set_defaults(func=cmd_users)

    s = sub.add_parser("chat-link", help="a signed web chat link for one customer (by e-mail)")
    s.add_argument("email")
    s.add_argument("--base-url", default="http://127.0.0.1:8000")
    s.add_argument("--days", type=float, default=30, help="how long the link works")
    s.set_defaults(func=cmd_chat_link)

    s = sub.add_parser("tokens", help="bearer tokens of the HTTP API, one per integration")
    tsub = s.add_subparsers(dest="action", required=True)
    tc = tsub.add_parser("create", help="a new token (its secret is shown once)")
    tc.add_argument("name")
    tc.add_argument("--role", choices=["integration", "knowledge", "admin"], required=True)
    tr = tsub.add_parser("revoke", help="revoke a token")
    tr.add_argument("name")
    tsub.add_parser("list", help="the tokens, live and revoked")
    s.set_defaults(func=cmd_tokens)

    s = sub.add_parser("outbox", help="the log of what was sent out (webhook, Chatwoot)")
    s.add_argument("action", nargs="?", choices=["log"], default="log")
    s.add_argument("--status", choices=["pending", "delivered", "failed"])
    s.add_argument("--target", choices=["webhook", "chatwoot"])
    s.add_argument("--limit", type=int, default=50)
    s.set_defaults(func=cmd_outbox)
