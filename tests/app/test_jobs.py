"""Background jobs: in a thread without Redis, on an RQ worker with the real Redis."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from rq.job import Job
from support import REPO

from app import jobs
from app.cli import cli
from app.extensions import db
from app.mail import outbox_messages
from drafts import report
from search.indexer import index_copy

MINYI = str(Path(sys.executable).parent / "minyi")
REDIS_URL = os.environ.get("MINYI_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@jobs.job("tests.add")
def add(a: int, b: int, steps: int = 0) -> int:
    for step in range(1, steps + 1):
        jobs.progress(done=step, total=steps, step=f"step {step}")
    return a + b


@jobs.job("tests.fail")
def fail(reason: str) -> None:
    raise ValueError(reason)


@pytest.fixture
def on_redis(app):
    """Send the app's jobs to a queue of this test's own on the real Redis."""
    name = f"minyi-test-{uuid.uuid4().hex[:12]}"
    app.config.update(JOBS_REDIS_URL=REDIS_URL, JOBS_QUEUE=name)
    connection = Redis.from_url(REDIS_URL)
    queue = Queue(name, connection=connection)
    yield queue
    queue.delete(delete_jobs=True)
    for key in connection.scan_iter(f"rq:*:{name}"):  # the queue's registries of jobs run
        connection.delete(key)
    connection.close()


def work(app, queue: Queue) -> None:
    """Run the queued jobs in this process, as `minyi jobs worker --burst` does in its own."""
    jobs.set_worker_app(app)
    try:
        SimpleWorker([queue], connection=queue.connection).work(burst=True,
                                                               with_scheduler=False)
    finally:
        jobs.set_worker_app(None)


def test_without_redis_a_job_runs_in_a_thread_and_reports_progress(app):
    app.config["JOBS_REDIS_URL"] = None
    ticket = jobs.enqueue("tests.add", a=2, b=3, steps=4)
    assert ticket.id.startswith(jobs.LOCAL_PREFIX)
    state = ticket.wait(timeout=30)
    assert (state.state, state.result, state.progress, state.done, state.total, state.step) == \
        ("done", 5, 100, 4, 4, "step 4")


def test_a_failing_job_is_failed_with_its_error_in_a_thread_and_on_redis(app, on_redis):
    with pytest.raises(LookupError):
        jobs.enqueue("tests.no-such-job")
    local = jobs.enqueue("tests.fail", here=True, reason="纸张用完了").wait(timeout=30)
    assert local.state == "failed" and "ValueError: 纸张用完了" in local.error

    ticket = jobs.enqueue("tests.fail", reason="打印机卡纸")
    work(app, on_redis)
    state = ticket.state()
    assert state.state == "failed" and "打印机卡纸" in state.error


def test_with_redis_the_job_waits_in_the_queue_until_a_worker_runs_it(app, on_redis):
    ticket = jobs.enqueue("tests.add", a=20, b=22, steps=2)
    assert not ticket.id.startswith(jobs.LOCAL_PREFIX)
    assert on_redis.count == 1
    queued = Job.fetch(ticket.id, connection=on_redis.connection)
    assert queued.args == ("tests.add", {"a": 20, "b": 22, "steps": 2})  # plain arguments
    assert ticket.state().state == "queued"
    work(app, on_redis)
    state = ticket.state()
    assert (state.state, state.result, state.done, state.total) == ("done", 42, 2, 2)
    assert on_redis.count == 0


def test_e_mail_is_delivered_by_the_worker(app, client, make_user, on_redis):
    user = make_user(email="forgot@example.com")
    response = client.post_form("/reset?lang=en", {"email": user.email})
    assert response.status_code == 302
    assert outbox_messages() == []  # rendered and queued, not yet sent
    work(app, on_redis)
    [message] = outbox_messages()
    assert message["To"] == "forgot@example.com" and "/reset/" in message.get_content()


def test_the_report_is_made_by_the_worker_with_visible_progress(app, client, make_draft,
                                                                make_comment, make_user,
                                                                on_redis):
    draft = make_draft()
    make_comment(draft, "art-6", body="建议明确充电设施的设置标准。")
    staff = make_user("staff")
    client.login(staff)
    base = f"/staff/drafts/{draft.slug}/report"
    client.post_form(base + "/generate")
    status = client.get(base + "/status.json").get_json()
    assert status["state"] == "queued" and status["step"] == "等待开始"
    assert on_redis.count == 1
    client.post_form(base + "/generate")  # already queued: not queued twice
    assert on_redis.count == 1
    work(app, on_redis)
    status = client.get(base + "/status.json").get_json()
    assert (status["state"], status["progress"], status["current"]) == ("done", 100, True)
    assert (report.folder(draft) / "report.pdf").read_bytes().startswith(b"%PDF")


def test_minyi_jobs_worker_runs_e_mail_and_reindex_jobs_in_its_own_process(
        app, make_draft, make_comment, make_user, on_redis, tmp_path):
    from app.mail import send_email

    draft = make_draft()
    user = make_user()
    for n in range(3):
        make_comment(draft, "art-6", body=f"第{n}条意见")
    old = index_copy(app).current()
    with app.test_request_context():
        send_email("someone@example.org", "测试", "emails/reset_password.txt",
                   user=user, link="https://example.org/reset/x")
    reindex = jobs.enqueue("search.reindex", procs=1, limitmb=64)
    env = {**os.environ, "MINYI_DATA_DIR": str(tmp_path), "SECRET_KEY": "test-secret",
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "MINYI_JOBS_REDIS_URL": REDIS_URL, "MINYI_JOBS_QUEUE": on_redis.name,
           "MINYI_INDEXER_THREAD": "0"}
    env.pop("REDIS_URL", None)
    worker = subprocess.run([MINYI, "jobs", "worker", "--burst"],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
                            check=False)
    assert worker.returncode == 0, worker.stderr[-3000:]
    assert f"taking jobs from the queue '{on_redis.name}'" in worker.stdout
    state = reindex.state()
    assert state.state == "done", state.error
    assert state.result["documents"] >= 3 and state.done == state.total > 0
    assert index_copy(app).current() != old
    [message] = outbox_messages()
    assert message["To"] == "someone@example.org"


def test_minyi_jobs_worker_needs_redis(runner, app):
    app.config["JOBS_REDIS_URL"] = None
    result = runner.invoke(cli, ["jobs", "worker", "--burst"])
    assert result.exit_code != 0 and "no Redis configured" in result.output


def test_minyi_search_reindex_follows_the_job_on_a_running_worker(app, runner, make_draft,
                                                                 make_comment, on_redis,
                                                                 tmp_path):
    draft = make_draft()
    make_comment(draft, "art-6", body="重建索引")
    db.session.commit()
    env = {**os.environ, "MINYI_DATA_DIR": str(tmp_path), "SECRET_KEY": "test-secret",
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "MINYI_JOBS_REDIS_URL": REDIS_URL, "MINYI_JOBS_QUEUE": on_redis.name,
           "MINYI_INDEXER_THREAD": "0"}
    env.pop("REDIS_URL", None)
    log = tmp_path / "worker.log"
    with open(log, "wb") as output, subprocess.Popen(
            [MINYI, "jobs", "worker"], cwd=REPO, env=env, stdout=output,
            stderr=subprocess.STDOUT) as worker:
        try:
            result = runner.invoke(args=["search", "reindex"])
        finally:
            worker.terminate()
    assert result.exit_code == 0, result.output + log.read_text()
    assert "queued as job" in result.output and "Indexing" in result.output
    assert re.search(r"indexed \d+ documents", result.output)
    assert "search.reindex" in log.read_text()  # the worker ran it


def test_while_redis_is_unreachable_the_job_runs_in_this_process(app, caplog):
    app.config["JOBS_REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there
    ticket = jobs.enqueue("tests.add", a=1, b=1)
    assert ticket.id.startswith(jobs.LOCAL_PREFIX)
    assert ticket.wait(timeout=30).result == 2
    assert "Redis unreachable: job tests.add runs in this process" in caplog.text
