"""GET /admin/report: the question-log report as a web page, behind the admin token.

Off (404) while no `admin_token` is configured. A client sends `Authorization: Bearer <token>`;
a browser signs in once through the form (POST /admin/login), which starts a session
(faqbot.serve.admin_auth: a random id in an HttpOnly, SameSite=Strict cookie, never the token; signing
out ends it on the server). POSTs from another site's page are refused (Origin check), and too
many wrong tokens from one address get 429. The page is server-rendered: no scripts, the chart
is inline SVG drawn here.
"""

from __future__ import annotations

import math
import time
from datetime import date

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, request
from markupsafe import Markup, escape

from . import admin_auth
from .admin_auth import COOKIE, SESSION_SECONDS
from ..errors import FaqbotError
from .limits import client_address
from .pages import WEB_DIR
from ..ops.report import build_report, parse_since

PERIODS = ("7d", "14d", "30d", "90d")
DEFAULT_PERIOD = "30d"

report_page = Blueprint("report_page", __name__)


def _auth() -> admin_auth.AdminAuth:
    auth = admin_auth.current()
    if auth is None:
        abort(404)
    return auth


def _check(auth: admin_auth.AdminAuth) -> str:
    """"ok", "missing" or "wrong": the bearer header first, then the session cookie."""
    header = request.headers.get("Authorization", "")
    if header:
        return "ok" if auth.check_token(admin_auth.bearer_token(header), client_address()) else "wrong"
    session = request.cookies.get(COOKIE)
    if not session or not auth.session_valid(session):
        return "missing"  # an expired or ended session just signs in again
    return "ok"


@report_page.before_request
def _guard():
    """Off: 404. Too many wrong tokens: 429. A POST from another site's page: 403."""
    auth = _auth()
    wait = auth.blocked(client_address())
    if wait is not None:
        seconds = math.ceil(wait)
        response = _login_page(429, f"Too many wrong tokens from your address. Try again in {seconds} seconds.")
        response.headers["Retry-After"] = str(seconds)
        return response
    if request.method == "POST" and not admin_auth.same_origin():
        return _page("<main><h1>faqbot admin</h1><p>This form must be sent from this site's own page.</p></main>",
                     403, "Refused")
    return None


def _page(body: str, status: int = 200, title: str = "Questions report") -> Response:
    template = (WEB_DIR / "report.html").read_text(encoding="utf-8")
    html = template.replace("{{title}}", str(escape(title))).replace("{{body}}", body)
    response = Response(html, status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


def _login_page(status: int, message: str) -> Response:
    body = f"""<main class="login"><h1>faqbot admin</h1>
<p>{escape(message)}</p>
<form method="post" action="/admin/login">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form></main>"""
    response = _page(body, status, "Sign in")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="faqbot admin"'
    return response


@report_page.post("/admin/login")
def login():
    """Check the token from the sign-in form and start a session."""
    auth = _auth()
    if not auth.check_token(request.form.get("token", ""), client_address()):
        return _login_page(403, "That token is not right.")
    response = redirect("/admin/report", 303)
    response.set_cookie(COOKIE, auth.start_session(), max_age=SESSION_SECONDS, path="/admin",
                        httponly=True, samesite="Strict", secure=request.is_secure)
    return response


@report_page.post("/admin/logout")
def logout():
    """End the session on the server and forget the cookie."""
    session = request.cookies.get(COOKIE)
    if session:
        _auth().end_session(session)
    response = redirect("/admin/report", 303)
    response.delete_cookie(COOKIE, path="/admin", httponly=True, samesite="Strict", secure=request.is_secure)
    return response


@report_page.get("/admin/report")
def report():
    """The report page (or ?format=json) for ?since=7d|14d|30d|90d|<date>|all."""
    state = _check(_auth())
    if state == "missing":
        return _login_page(401, "Sign in with the admin token (setting admin_token, FAQBOT_ADMIN_TOKEN).")
    if state == "wrong":
        return _login_page(403, "That token is not right.")
    since_text = request.args.get("since", DEFAULT_PERIOD)[:40]
    log = current_app.extensions.get("faqbot.log")
    if log is None:
        return _page("<main><h1>Questions report</h1><p>Question logging is off (setting log_questions).</p></main>")
    now = time.time()
    try:
        since = parse_since(since_text, now)
        index = current_app.extensions["faqbot.live"].current()
        embedder = current_app.extensions["faqbot.answer_settings"].embedder
        data = build_report(log.path, since, now, embedder=embedder, index=index)
    except FaqbotError as err:
        return _page(f"<main><h1>Questions report</h1><p>{escape(str(err))}</p></main>", 400)
    if request.args.get("format") == "json":
        response = jsonify(data)
        response.headers["Cache-Control"] = "no-store"
        return response
    return _page(render_body(data, since_text))


def chart_svg(per_day: list[dict], width: int = 760, height: int = 240) -> Markup:
    """Questions per day (bars: answered solid, unanswered hatched) and the answered rate (line)."""
    left, right, top, bottom = 40, 44, 30, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(per_day), 1)
    tick = _nice_step(max([d["questions"] for d in per_day] + [1]) / 4)
    peak = tick * -(-max([d["questions"] for d in per_day] + [1]) // tick)
    step = plot_w / n
    bar = max(step * 0.7, 1.0)
    y = lambda count: top + plot_h - plot_h * count / peak  # noqa: E731
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-title chart-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        '<title id="chart-title">Questions per day and answered rate</title>',
        f'<desc id="chart-desc">{len(per_day)} days; the table below the chart has the numbers.</desc>',
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="6" height="6" class="unanswered-bg"/><line x1="0" y1="0" x2="0" y2="6" class="hatch-line"/>'
        '</pattern></defs>',
    ]
    for count in range(0, peak + 1, tick):
        gy = y(count)
        parts.append(f'<line class="grid" x1="{left}" x2="{left + plot_w}" y1="{gy:.1f}" y2="{gy:.1f}"/>')
        parts.append(f'<text class="axis" x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end">{count}</text>')
    for frac in (0, 0.5, 1):
        gy = top + plot_h - plot_h * frac
        parts.append(f'<text class="axis" x="{left + plot_w + 6}" y="{gy + 4:.1f}">{frac:.0%}</text>')
    points = []
    label_every = max(1, round(n / 8))
    for i, day in enumerate(per_day):
        x = left + i * step + (step - bar) / 2
        q, a = day["questions"], day["answered"]
        if q:
            parts.append(f'<rect class="answered" x="{x:.1f}" y="{y(a):.1f}" width="{bar:.1f}" height="{y(0) - y(a):.1f}">'
                         f'<title>{day["date"]}: {a} answered of {q}</title></rect>')
            parts.append(f'<rect class="unanswered" fill="url(#hatch)" x="{x:.1f}" y="{y(q):.1f}" width="{bar:.1f}" '
                         f'height="{y(a) - y(q):.1f}"><title>{day["date"]}: {q - a} unanswered</title></rect>')
            points.append((x + bar / 2, top + plot_h - plot_h * a / q))
        if i % label_every == 0 or i == n - 1:
            label = date.fromisoformat(day["date"]).strftime("%b %d")
            parts.append(f'<text class="axis" x="{x + bar / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle">{label}</text>')
    if len(points) > 1:
        parts.append('<polyline class="rate" points="' + " ".join(f"{px:.1f},{py:.1f}" for px, py in points) + '"/>')
    for px, py in points:
        parts.append(f'<circle class="rate-dot" cx="{px:.1f}" cy="{py:.1f}" r="3"/>')
    parts.append('<text class="axis-title" x="2" y="12">questions</text>')
    parts.append(f'<text class="axis-title" x="{width - 2}" y="12" text-anchor="end">answered</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _nice_step(raw: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, ... that is at least raw (axis ticks)."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if step * m >= raw:
                return step * m
        step *= 10


def _rows(items: list[str], empty: str, columns: int) -> str:
    return "".join(items) or f'<tr><td colspan="{columns}" class="empty">{escape(empty)}</td></tr>'


def render_body(data: dict, since_text: str) -> str:
    """The report page's <main>, every value escaped."""
    t = data["totals"]
    rate = f"{t['answered_rate']:.0%}" if t["answered_rate"] is not None else "–"
    current = ' aria-current="page"'
    periods = " ".join(
        f'<a href="/admin/report?since={p}"{current if p == since_text else ""}>{p}</a>' for p in PERIODS)
    most = _rows([f"<tr><td class=num>{r['count']}</td><td>{escape(r['question'])}</td>"
                  f"<td class=num>{r['answered']}</td></tr>" for r in data["most_asked"]], "No questions yet.", 3)
    unanswered = _rows([
        f"<tr><td class=num>{g['count']}</td><td><strong>{escape(g['question'])}</strong>"
        + ("".join(f'<span class="variant">also: {escape(v)}</span>' for v in g["variants"][1:]))
        + "</td></tr>" for g in data["unanswered"]], "Every question got an answer.", 2)
    not_helpful = _rows([
        f"<tr><td class=num>{r['count']}</td><td><strong>{escape(r['title'])}</strong> {escape(r['passage'])}"
        f"<span class=sub>asked as: {escape('; '.join(r['questions']))}</span></td></tr>"
        for r in data["not_helpful"]], "No answer was marked not helpful.", 2)
    articles = _rows([
        f"<tr><td class=num>{r['answers']}</td><td>{escape(r['title'])}</td>"
        f"<td class=num>{r['helpful']}</td><td class=num>{r['not_helpful']}</td></tr>"
        for r in data["top_articles"]], "No answers yet.", 4)
    days = "".join(f"<tr><td>{d['date']}</td><td class=num>{d['questions']}</td><td class=num>{d['answered']}</td></tr>"
                   for d in data["per_day"])
    return f"""<header><h1>Questions report</h1>
<nav aria-label="Period">Period: {periods}</nav>
<form method="post" action="/admin/logout"><button type="submit">Sign out</button></form></header>
<main>
<p class="period">{escape(data['since'][:10])} to {escape(data['until'][:10])} (UTC)</p>
<ul class="totals">
<li><span class="big">{t['questions']}</span> questions</li>
<li><span class="big">{rate}</span> answered</li>
<li><span class="big">{t['unanswered']}</span> unanswered</li>
<li><span class="big">{t['not_helpful']}</span> marked not helpful</li>
</ul>
<section aria-labelledby="h-chart"><h2 id="h-chart">Questions per day</h2>
<p class="legend"><span class="key key-answered"></span> answered <span class="key key-unanswered"></span> unanswered
<span class="key key-rate"></span> answered rate (right axis)</p>
{chart_svg(data['per_day'])}
<details><summary>Numbers per day</summary><table><thead><tr><th>Day</th><th>Questions</th><th>Answered</th></tr></thead>
<tbody>{days}</tbody></table></details></section>
<div class="grid2">
<section aria-labelledby="h-unanswered"><h2 id="h-unanswered">Unanswered questions</h2>
<p class="note">The same question in other words is grouped (by {escape(data['grouping'])}).</p>
<table><thead><tr><th>Asked</th><th>Question and rewordings</th></tr></thead><tbody>{unanswered}</tbody></table></section>
<section aria-labelledby="h-most"><h2 id="h-most">Most asked</h2>
<table><thead><tr><th>Asked</th><th>Question</th><th>Answered</th></tr></thead><tbody>{most}</tbody></table></section>
<section aria-labelledby="h-nothelpful"><h2 id="h-nothelpful">Answers marked not helpful</h2>
<table><thead><tr><th>Votes</th><th>Answer</th></tr></thead><tbody>{not_helpful}</tbody></table></section>
<section aria-labelledby="h-articles"><h2 id="h-articles">Articles that answer most</h2>
<table><thead><tr><th>Answers</th><th>Article</th><th>Helpful</th><th>Not helpful</th></tr></thead>
<tbody>{articles}</tbody></table></section>
</div></main>"""
