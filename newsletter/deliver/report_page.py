"""The issue report as a page staff can open: clicks per story, unsubscribes over time.

Charts are inline SVG drawn here, so the page needs no script and no network.
"""

from __future__ import annotations

from html import escape

from newsletter.deliver.report import IssueReport

BAR = 22


def _bars(items: list[tuple[str, int]], colour: str) -> str:
    if not items:
        return "<p>None yet.</p>"
    top = max(n for _, n in items) or 1
    height = BAR * len(items) + 8
    rows = []
    for i, (label, value) in enumerate(items):
        y = 4 + i * BAR
        width = 4 + 360 * value / top
        rows.append(
            f'<text x="0" y="{y + 15}">{escape(label[:60])}</text>'
            f'<rect x="420" y="{y + 3}" width="{width:.0f}" height="{BAR - 8}" fill="{colour}"/>'
            f'<text x="{424 + width:.0f}" y="{y + 15}">{value}</text>'
        )
    return (
        f'<svg role="img" viewBox="0 0 840 {height}" width="840" height="{height}" '
        f'font-family="sans-serif" font-size="13">{"".join(rows)}</svg>'
    )


def render_report_page(report: IssueReport) -> str:
    numbers = [
        ("Sent", report.sent), ("Delivered (provider reports)", report.delivered),
        ("Deferred", report.deferred), ("Failed", report.failed),
        ("Bounced, hard", report.bounced_hard), ("Bounced, soft", report.bounced_soft),
        ("Complained", report.complained), ("Unsubscribed after this issue", report.unsubscribed),
    ]  # fmt: skip
    table = "".join(f"<tr><th scope=row>{escape(k)}</th><td>{v}</td></tr>" for k, v in numbers)
    clicks = _bars([(c.title, c.clicks) for c in report.clicks], "#6b1f57")
    days = _bars(report.unsubscribes_by_day, "#545e69")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Issue {escape(report.issue)}: report</title>
<style>body{{font-family:sans-serif;max-width:900px;margin:2rem auto;color:#1f2933}}
table{{border-collapse:collapse}}
th,td{{padding:.3rem 1rem;border-bottom:1px solid #ddd;text-align:left}}
td{{text-align:right}}</style></head>
<body><main>
<h1>Issue {escape(report.issue)}</h1>
<p>First sent {escape(report.first_sent or "never")}. Bounce rate {report.bounce_rate:.1%},
complaint rate {report.complaint_rate:.2%}.</p>
<table>{table}</table>
<h2>Clicks per story</h2>
<p>Counted per link, never per reader.</p>
{clicks}
<h2>Unsubscribes over time</h2>
{days}
</main></body></html>
"""
