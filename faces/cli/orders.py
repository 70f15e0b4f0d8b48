"""`souffleur orders`: import the order feed, list one customer's orders."""

from __future__ import annotations

import argparse

from faces.cli.common import Subcommands, workspace_of


def cmd_orders(args: argparse.Namespace) -> int:
    ws = workspace_of(args)
    if args.action == "import":
        status = 0
        for path in args.paths:
            report = ws.orders.import_path(path)
            print(
                f"{path}: {report.inserted} new, {report.updated} updated, {len(report.invalid_rows)} invalid rows"
            )
            for problem in report.problems:
                print(f"  {problem}")
            status = status or (1 if report.problems else 0)
        return status
    for o in ws.orders.orders_of(args.customer):
        print(
            f"{o.order_number}  {o.created_at:%Y-%m-%d}  {o.status:12} {o.total or 0:9.2f} {o.currency}  {o.carrier or '-'} {o.tracking_number or ''}"
        )
    return 0


def add_parser(sub: Subcommands) -> None:
    s = sub.add_parser("orders", help="import the order feed, or list a customer's orders")
    osub = s.add_subparsers(dest="action", required=True)
    oi = osub.add_parser("import", help="import CSV/JSON/JSONL order feeds")
    oi.add_argument("paths", nargs="+")
    ol = osub.add_parser("list", help="orders of one customer")
    ol.add_argument("--customer", required=True)
    s.set_defaults(func=cmd_orders)
