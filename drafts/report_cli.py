"""Commands for compiling opinions: `minyi report adopted` and `minyi opinions …`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.extensions import db


def _draft(slug: str):
    from drafts import services

    draft = services.draft_by_slug(slug)
    if draft is None:
        raise click.ClickException(f"no draft {slug!r}")
    return draft


report_group = AppGroup("report", help="Reports on drafts.")


@report_group.command("adopted")
@click.argument("slug")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the PDF (required unless --format json).")
@click.option("--format", "fmt", type=click.Choice(["pdf", "json"]), default="pdf",
              show_default=True, help="json prints the report's data instead of a PDF.")
@click.option("--no-cluster", is_flag=True, help="Keep the campaigns found before.")
def adopted_command(slug: str, out: Path | None, fmt: str, no_cluster: bool) -> None:
    """Make the adopted-opinions report (意见采纳情况报告) of the draft SLUG."""
    from drafts import campaigns, report

    draft = _draft(slug)
    with current_app.test_request_context(base_url=current_app.config["SERVER_URL"]):
        if fmt == "json":
            if not no_cluster:
                campaigns.cluster_draft(draft)
                db.session.commit()
            click.echo(json.dumps(report.as_json(report.build(draft)), ensure_ascii=False,
                                  indent=2))
            return
        if out is None:
            raise click.UsageError("give --out FILE.pdf (or --format json)")

        def progress(percent: int, step: str) -> None:
            click.echo(f"{percent:3d}% {step}", err=True)

        data = report.render_pdf(draft, progress, cluster=not no_cluster)
    out.write_bytes(data)
    click.echo(f"wrote {out} ({len(data) // 1024} KiB)")


opinions_group = AppGroup("opinions", help="Compile the opinions on drafts.")


@opinions_group.command("send-feedback")
@click.option("--draft", "slug", default=None, help="Only this draft (default: all).")
def send_feedback_command(slug: str | None) -> None:
    """E-mail commenters the decisions on their opinions not yet told (run it from cron)."""
    from drafts import feedback

    draft = _draft(slug) if slug else None
    run = feedback.send_feedback(draft)
    db.session.commit()
    click.echo(f"{run.emails} e-mails about {run.decisions} decisions; "
               f"{run.untold} decisions with nobody to tell")


@opinions_group.command("cluster")
@click.argument("slug")
def cluster_command(slug: str) -> None:
    """Find the campaigns (identical or lightly edited texts) among a draft's opinions."""
    from drafts import campaigns

    result = campaigns.cluster_draft(_draft(slug))
    db.session.commit()
    click.echo(f"{result.considered} opinions compared: {result.campaigns} campaigns holding "
               f"{result.in_campaigns} opinions; {result.unique} unique texts")


def init_app(app: Flask) -> None:
    """Add the commands to `minyi`."""
    app.cli.add_command(report_group)
    app.cli.add_command(opinions_group)
