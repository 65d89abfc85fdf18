"""Load shedding: beyond the bound of requests under way, a quick 503 in the user's language."""

from __future__ import annotations

import pytest

from app.load import InFlight


def test_beyond_the_bound_requests_are_answered_503_with_retry_after(app, client):
    inflight: InFlight = app.extensions["minyi_inflight"]
    inflight.limit = 2
    assert client.get("/").status_code == 200
    assert inflight.count == 0  # every request counted in was counted out
    inflight.enter()
    inflight.enter()  # two requests under way: the bound
    try:
        busy = client.get("/")
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "2"
        assert busy.headers["Cache-Control"] == "no-store"
        page = busy.get_data(as_text=True)
        assert "系统繁忙，请稍后再试。" in page and 'lang="zh-Hans"' in page
        english = client.get("/drafts?lang=en").get_data(as_text=True)
        assert "The service is busy. Please try again in a moment." in english
        client.set_cookie("minyi_lang", "en")
        assert "The service is busy" in client.get("/").get_data(as_text=True)
        api = client.get("/api/v1/drafts")
        assert api.status_code == 503 and api.get_json()["error"]["code"] == 503
        static = client.get("/static/css/minyi.css")
        static.close()
        assert static.status_code == 200  # not counted
        assert inflight.shed == 4
    finally:
        inflight.leave()
        inflight.leave()
    assert client.get("/").status_code == 200


def test_a_request_that_fails_is_counted_out(app, client):
    inflight: InFlight = app.extensions["minyi_inflight"]

    @app.get("/tests/boom")
    def boom():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):  # TESTING propagates it instead of the 500 page
        client.get("/tests/boom")
    assert inflight.count == 0


def test_no_bound_when_the_setting_is_zero():
    inflight = InFlight(0)
    assert all(inflight.enter() for _ in range(1000))
    assert inflight.shed == 0


def test_behind_a_trusted_proxy_the_client_address_comes_from_x_forwarded_for(app, client):
    from flask import request
    from flask_limiter.util import get_remote_address

    from app.load import init_app

    seen = []

    @app.get("/tests/address")
    def address():
        seen.append((get_remote_address(), request.scheme))
        return "ok"

    forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    client.get("/tests/address", headers=forwarded)
    app.config["PROXY_HOPS"] = 1
    init_app(app)
    client.get("/tests/address", headers=forwarded)
    assert seen == [("127.0.0.1", "http"), ("203.0.113.9", "https")]


def test_while_requests_wait_too_long_for_their_turn_only_a_few_are_admitted():
    inflight = InFlight(32, max_wait=0.5, floor=2)
    for _ in range(20):
        inflight.waited(2.0)  # a starved CPU: two seconds before each request ran
    assert inflight.wait > 0.5
    assert inflight.enter() and inflight.enter()  # the floor is always admitted
    assert not inflight.enter() and inflight.shed == 1
    inflight.leave()
    inflight.leave()
    for _ in range(20):
        inflight.waited(0.01)  # the queue drained
    assert all(inflight.enter() for _ in range(32))
    assert not inflight.enter()  # the count bound still holds
