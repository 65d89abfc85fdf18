"""The `minyi` command: Flask's commands plus users, drafts and the demo."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from app import create_app
from app.backup import backup_command, restore_command
from app.extensions import db
from drafts.cli import diff_command


def _create_app(*_args, **_kwargs):
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app)
def cli() -> None:
    """Minyi (民意): public participation in lawmaking."""


cli.add_command(diff_command)
cli.add_command(backup_command)
cli.add_command(restore_command)


@cli.group()
def users() -> None:
    """Manage accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--role", type=click.Choice(["public", "deputy", "staff", "admin"]),
              default="public", show_default=True)
@click.option("--name", default=None, help="Display name (default: the part before @).")
@click.option("--deputy-level",
              type=click.Choice(["national", "region", "city", "county", "township"]))
@with_appcontext
def create_user_command(email: str, password: str, role: str, name: str | None,
                        deputy_level: str | None) -> None:
    """Create an account."""
    from app.accounts.services import AccountError, create_user

    if len(password) < 8:
        raise click.BadParameter("at least 8 characters", param_hint="--password")
    try:
        user = create_user(email, password, name or email.split("@")[0], role=role,
                           deputy_level=deputy_level)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"created user {user.id} <{user.email}> with role {user.role}")


@cli.group()
def drafts() -> None:
    """Manage drafts."""


@drafts.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--title", required=True)
@click.option("--slug", default=None)
@click.option("--label", default="征求意见稿", show_default=True, help="Version label.")
@with_appcontext
def import_draft(file: Path, title: str, slug: str | None, label: str) -> None:
    """Create an unpublished draft from a .txt, .md or .docx file."""
    from drafts import services

    try:
        text, parsed = services.read_upload(file.name, file.read_bytes())
        draft = services.create_draft(title, text, user=None, slug=slug, version_label=label,
                                      source_filename=file.name, parsed=parsed)
    except services.DraftError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    articles = len(parsed.articles())
    for warning in parsed.warnings:
        click.echo(f"warning: line {warning.line}: {warning.message}", err=True)
    click.echo(f"imported {articles} articles as draft {draft.slug}")


@cli.command("demo")
@with_appcontext
def demo() -> None:
    """Load the demo: users of every role, a draft open for comment, comments."""
    from app.demo import DEMO_PASSWORD, USERS, load_demo

    draft = load_demo()
    db.session.commit()
    click.echo(f"demo draft: /drafts/{draft.slug}")
    for email, _name, role, _level in USERS:
        click.echo(f"  {role:7} {email} / {DEMO_PASSWORD}")


@cli.group("jobs")
def jobs_group() -> None:
    """Background jobs: report PDFs, e-mail, search reindex."""


@jobs_group.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs queued now, then stop.")
@click.option("--queue", "queue_name", default=None,
              help="The queue to take jobs from (default JOBS_QUEUE, `minyi`).")
@with_appcontext
def jobs_worker(burst: bool, queue_name: str | None) -> None:
    """Take jobs from the Redis queue and run them, each in a forked process."""
    from rq import Worker

    from app import jobs

    app = current_app._get_current_object()
    queue = jobs.queue(app, queue_name)
    if queue is None:
        raise click.ClickException("no Redis configured (REDIS_URL or MINYI_JOBS_REDIS_URL); "
                                   "without it jobs run in threads of the web processes")
    jobs.set_worker_app(app)
    click.echo(f"taking jobs from the queue {queue.name!r}{' until it is empty' if burst else ''}")
    Worker([queue], connection=queue.connection).work(burst=burst, with_scheduler=False)
