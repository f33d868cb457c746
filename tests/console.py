"""End-to-end walk of the brand console in headless Debian Chromium (issue 15).

Run by tests/console.sh, which seeds a store with tests/fixtures/sample-events.ndjson,
starts `engage serve` at the fixtures' clock and mints a token for brand B1 with both
roles. This script drives the page as a brand owner would: sign in with the token, build
a campaign the rules refuse (violations next to their fields), fix it, pick a green date
and an eligible promotion, submit, approve it as moderator, find it in the list, answer a
negative review and open the health page. It fails on any Content-Security-Policy
violation and on a page wider than a phone's screen.

    python tests/console.py --base http://127.0.0.1:PORT --token TOKEN [--shots DIR]
"""

import argparse
import re
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# The network is closed: nothing of Chromium's own may try to reach out.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # The preview's images live on https hosts that do not resolve here: fail fast.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
PHONE_WIDTH = 390
# The campaign as a brand owner types it (its subject refused: a web address), by
# field label, then the image and logo fields, which share their labels.
CAMPAIGN_BY_LABEL = {
    "Nickname": "Console spotlight",
    "Primary product (ASIN)": "B0ENGAGE01",
    "Complementary products": "B0ENGAGE02, B0ENGAGE03",
    "Subject": "Shop northwind dot com",
    "Section header": "New from a brand you follow",
}
CAMPAIGN_BY_ID = {
    "#f-img-url": "https://images.example/trail.jpg",
    "#f-img-w": "1200",
    "#f-img-h": "800",
    "#f-logo-url": "https://images.example/logo.png",
    "#f-logo-w": "600",
    "#f-logo-h": "150",
}


def step(text):
    print(f"  - {text}", flush=True)


def walk(page, base, token, shots):
    csp_errors = []
    page.on(
        "console",
        lambda m: csp_errors.append(m.text)
        if "Content Security Policy" in m.text
        else None,
    )
    page.set_default_timeout(15_000)

    step("sign in with the pasted token")
    page.goto(base + "/")
    page.get_by_label("Bearer token").fill(token)
    page.get_by_role("button", name="Use this token").click()
    expect(page.locator("#who")).to_contain_text("brands B1")
    expect(page.locator("#builder-h")).to_be_visible()

    step("a campaign the rules refuse: violations next to their fields")
    for label, value in CAMPAIGN_BY_LABEL.items():
        page.get_by_label(label).fill(value)
    for field, value in CAMPAIGN_BY_ID.items():
        page.locator(field).fill(value)
    # Two days away: under the lead time.
    page.locator("#f-date").fill("2026-11-28")
    page.locator("#f-date").dispatch_event("change")
    subject = page.locator('.field[data-field="subject"] .violation')
    expect(subject.first).to_contain_text(re.compile(r"R-\S+ .*\(content@\S+\)"))
    date = page.locator('fieldset[data-field="startDate"] > .violation')
    expect(date.first).to_contain_text(re.compile(r"R-MYCE-13\S* .*\(campaign@\S+\)"))
    expect(page.locator("#validity")).to_contain_text("Refused by campaign@")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("#status")).to_contain_text("Refused")

    step("fix the subject, pick a green date in December and an eligible promotion")
    page.get_by_label("Subject").fill("Gifts for the trail")
    expect(subject).to_have_count(0)
    page.get_by_role("button", name="Next month").click()
    expect(page.locator("#cal-title")).to_have_text("December 2026")
    green = page.locator('#calendar .day[data-date="2026-12-07"]')
    expect(green).to_have_attribute("data-availability", "available")
    green.hover()
    green.click()
    expect(page.locator("#f-date")).to_have_value("2026-12-07")
    expect(page.locator("#reach")).to_contain_text("19 of 19 followers reachable")
    promo = page.get_by_label("Promotion")
    expect(promo.locator('option[value="P-DEAL-DEC"]')).to_have_count(1)
    expect(page.locator("#promo-ineligible")).to_contain_text("P-DEAL-CANCELED")
    promo.select_option("P-DEAL-DEC")
    expect(page.locator("#validity")).to_contain_text("Valid under campaign@")
    expect(page.locator("#campaign-form .violation")).to_have_count(0)
    page.screenshot(path=str(shots / "console-builder.png"), full_page=True)

    step("submit (with an Idempotency-Key); the server's preview in a sandboxed frame")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator("#status")).to_contain_text("IN_REVIEW")
    frame = page.frame_locator("#builder-preview")
    expect(frame.locator("body")).to_contain_text("New from a brand you follow")
    assert page.locator("#builder-preview").get_attribute("sandbox") == ""

    step("the calendar now shows the overlap: yellow days say what they lose")
    yellow = page.locator('#calendar .day[data-date="2026-12-09"]')
    expect(yellow).to_have_attribute("data-availability", "overlap")
    expect(yellow.locator(".lost")).to_have_text("−19")
    # By keyboard: from the 8th, one step right is the 9th, its reasons announced.
    page.locator('#calendar .day[data-date="2026-12-08"]').focus()
    page.keyboard.press("ArrowRight")
    expect(yellow).to_be_focused()
    expect(page.locator("#day-reasons")).to_contain_text("would lose 19 followers")
    page.locator("fieldset[data-field=startDate]").screenshot(
        path=str(shots / "console-calendar.png")
    )

    step("approve it as moderator")
    page.get_by_role("link", name="Moderation").click()
    card = page.locator("#queue > li", has_text="Console spotlight")
    card.get_by_role("button", name="Approve").click()
    expect(page.locator("#status")).to_contain_text("APPROVED")

    step("see it in the list with its status and performance")
    page.get_by_role("link", name="Campaigns").click()
    row = page.locator("#campaigns-table tbody tr", has_text="Console spotlight")
    expect(row.locator(".badge")).to_have_text("APPROVED")
    expect(row.locator("td").nth(2)).to_have_text("0")

    step("answer a negative review (courtesy refund)")
    page.get_by_role("link", name="Reviews").click()
    review = page.locator('#review-list > li[data-id="R-1001"]')
    expect(review).to_be_visible()
    expect(page.locator('#review-list > li[data-id="R-1004"]')).to_have_count(0)
    page.screenshot(path=str(shots / "console-reviews.png"), full_page=True)
    review.get_by_role("button", name="Courtesy refund for review R-1001").click()
    expect(page.locator("#status")).to_contain_text("R-1001: courtesy refund email sent")
    expect(review).to_contain_text("Answered")
    page.locator('input[name="stars"][value="5"]').check()
    page.get_by_role("button", name="Show reviews").click()
    expect(page.locator('#review-list > li[data-id="R-1004"]')).to_be_visible()

    step("open health")
    page.get_by_role("link", name="Health").click()
    expect(page.locator("#health-body")).to_contain_text("Negative reviews, 30 days")
    expect(page.locator("#health-body .badge")).to_contain_text("level:")

    step(f"usable at phone width ({PHONE_WIDTH} px): no horizontal scrolling")
    page.set_viewport_size({"width": PHONE_WIDTH, "height": 800})
    for section in ["builder", "campaigns", "reviews", "health"]:
        page.goto(f"{base}/#{section}")
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE_WIDTH, f"#{section} is {width} px wide at {PHONE_WIDTH} px"

    assert not csp_errors, f"Content-Security-Policy violations: {csp_errors}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--shots", help="where the screenshots go (default: a temporary folder)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="engage-console.") as tmp:
        shots = Path(args.shots or tmp)
        shots.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            # A fresh profile each run (launch_persistent_context owns --user-data-dir).
            ctx = p.chromium.launch_persistent_context(
                str(Path(tmp) / "profile"),
                executable_path=CHROMIUM,
                headless=True,
                args=FLAGS,
                viewport={"width": 1100, "height": 900},
            )
            try:
                page = ctx.pages[0] if ctx.pages else ctx.new_page()
                walk(page, args.base.rstrip("/"), args.token, shots)
            finally:
                ctx.close()
    print("console walk: 1 passed, 0 failed")


if __name__ == "__main__":
    sys.exit(main())
