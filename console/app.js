// engage brand console: plain JavaScript over the /v1 API, no build step, no dependency.
// Served by `engage serve` (and CloudFront) under a Content-Security-Policy that allows
// this file only: no inline script, no eval, no DOM built from HTML strings (textContent
// everywhere), so text from the API can never run as code here.
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

// The token lives in this tab only (sessionStorage): closing the tab signs out.
const state = {
  token: sessionStorage.getItem("engage.token") || "",
  claims: null,
  month: null, // first day of the shown month, "YYYY-MM-01"
  today: null, // the server's business date (first day of a default calendar)
  calendar: new Map(), // date -> day of the last calendar answer
  idempotencyKey: null, // kept while the same draft is retried
  lastBody: null,
};

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

function say(text, error = false) {
  const s = $("#status");
  s.textContent = text;
  s.classList.toggle("error", error);
}

async function api(method, path, body, headers = {}) {
  const h = { Authorization: `Bearer ${state.token}`, ...headers };
  if (body !== undefined) h["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    return { ok: false, status: 0, data: { detail: `network error: ${e.message}` } };
  }
  const type = resp.headers.get("content-type") || "";
  const data = type.includes("json") ? await resp.json().catch(() => ({})) : await resp.text();
  if (resp.status === 401) say("The token was refused: sign in again.", true);
  return { ok: resp.ok, status: resp.status, data };
}

function problemText(r) {
  return (r.data && r.data.detail) || `HTTP ${r.status}`;
}

// ---- sign in -------------------------------------------------------------------------

function decodeClaims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "===".slice((part.length + 3) % 4)));
  } catch {
    return null;
  }
}

function signIn(token) {
  const claims = decodeClaims(token.trim());
  if (!claims) {
    say("That is not a token (three dot-separated parts).", true);
    return false;
  }
  state.token = token.trim();
  state.claims = claims;
  sessionStorage.setItem("engage.token", state.token);
  const roles = (claims.roles || []).join(", ") || "no role";
  $("#who").textContent = `Seller ${claims.sellerId || claims.sub} · brands ${(claims.brands || []).join(", ") || "none"} · ${roles}`;
  const brand = $("#f-brand");
  brand.replaceChildren(...(claims.brands || []).map((b) => el("option", { value: b, text: b })));
  return true;
}

function signOut() {
  sessionStorage.removeItem("engage.token");
  state.token = "";
  state.claims = null;
  $("#who").textContent = "Not signed in";
  location.hash = "#signin";
}

const brandId = () => $("#f-brand").value;

// ---- navigation ----------------------------------------------------------------------

const sections = ["signin", "builder", "campaigns", "moderation", "reviews", "health"];

function route() {
  let name = location.hash.slice(1) || "signin";
  if (!sections.includes(name)) name = "signin";
  if (name !== "signin" && !state.claims) name = "signin";
  for (const s of sections) $(`#${s}`).hidden = s !== name;
  for (const a of $$("nav a")) {
    if (a.getAttribute("href") === `#${name}`) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  say("");
  const load = { builder: openBuilder, campaigns: loadCampaigns, moderation: loadQueue, reviews: loadReviews, health: loadHealth }[name];
  if (load) load();
}

// ---- campaign builder ----------------------------------------------------------------

let themesLoaded = false;
async function openBuilder() {
  if (!themesLoaded) {
    const r = await api("GET", "/v1/themes");
    if (r.ok) {
      themesLoaded = true;
      for (const t of r.data.items) $("#f-theme").append(el("option", { value: t.id, text: `${t.name} (${t.start} to ${t.end})` }));
    }
  }
  if (!state.month) await loadCalendar();
}

function num(name) {
  const v = $(`[name="${name}"]`).value;
  return v === "" ? 0 : Number(v);
}

function draft() {
  const v = (name) => $(`[name="${name}"]`).value.trim();
  const body = {
    brandId: brandId(),
    nickname: v("nickname"),
    primaryAsin: v("primaryAsin"),
    complementaryAsins: v("complementaryAsins").split(",").map((s) => s.trim()).filter(Boolean),
    subject: v("subject"),
    sectionHeader: v("sectionHeader"),
    headerStyle: v("headerStyle"),
    lifestyleImage: { url: v("lifestyleImage.url"), width: num("lifestyleImage.width"), height: num("lifestyleImage.height") },
    logo: {
      url: v("logo.url"), width: num("logo.width"), height: num("logo.height"),
      format: v("logo.format"), background: v("logo.background"),
    },
  };
  if (v("startDate")) body.startDate = v("startDate");
  if (v("theme")) body.theme = v("theme");
  if (v("promotionId")) body.promotionId = v("promotionId");
  return body;
}

function violationLine(v, fallbackPolicy, cls) {
  return el("p", { class: cls },
    el("code", { text: v.rule }), ` ${v.message} `,
    el("span", { class: "muted", text: `(${v.policy || fallbackPolicy})` }));
}

// Each violation next to its field: the field itself, else its nearest enclosing one.
function showViolations(result) {
  for (const f of $$("#campaign-form [data-field]")) {
    f.classList.remove("invalid");
    for (const p of $$(":scope > .violation, :scope > .warning", f)) p.remove();
    const input = $(":scope > input, :scope > select", f);
    if (input) input.removeAttribute("aria-invalid");
  }
  const general = $("#general-violations");
  general.replaceChildren();
  const place = (v, cls) => {
    let field = v.field || "";
    let box = null;
    while (field && !(box = $(`#campaign-form [data-field="${CSS.escape(field)}"]`))) {
      field = field.includes(".") ? field.slice(0, field.lastIndexOf(".")) : "";
    }
    const line = violationLine(v, result.policy, cls);
    if (box) {
      if (cls === "violation") {
        box.classList.add("invalid");
        const input = $(":scope > input, :scope > select", box);
        if (input) input.setAttribute("aria-invalid", "true");
      }
      box.append(line);
    } else general.append(line);
  };
  for (const v of result.violations || []) place(v, "violation");
  for (const w of result.warnings || []) place(w, "warning");
  const validity = $("#validity");
  const n = (result.violations || []).length;
  validity.className = `validity ${n ? "bad" : "ok"}`;
  validity.textContent = n
    ? `Refused by ${result.policy}: ${n} rule${n > 1 ? "s" : ""} to fix.`
    : `Valid under ${result.policy}.`;
}

let validateTimer = null;
let validateSeq = 0;
function scheduleValidate() {
  clearTimeout(validateTimer);
  validateTimer = setTimeout(validate, 300);
}

async function validate() {
  const seq = ++validateSeq;
  const r = await api("POST", "/v1/campaigns/validate", draft());
  if (seq !== validateSeq) return null; // a newer edit is on its way
  if (r.ok) {
    showViolations(r.data);
    if (r.data.valid) say("");
  }
  else if (r.status === 400) showViolations({ policy: "request", violations: [{ rule: "bad-request", message: problemText(r), field: "" }] });
  else say(problemText(r), true);
  return r.ok ? r.data : null;
}

// ---- calendar and reach --------------------------------------------------------------

function isoDate(d) { return d.toISOString().slice(0, 10); }
function monthStart(date) { return `${date.slice(0, 7)}-01`; }
function addMonths(first, n) {
  const d = new Date(`${first}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + n);
  return isoDate(d);
}
function monthEnd(first) {
  const d = new Date(`${addMonths(first, 1)}T00:00:00Z`);
  d.setUTCDate(0);
  return isoDate(d);
}

async function loadCalendar() {
  const params = new URLSearchParams();
  if (state.month) { params.set("from", state.month); params.set("to", monthEnd(state.month)); }
  if ($("#f-theme").value) params.set("theme", $("#f-theme").value);
  if ($("#f-promo").value) params.set("promotionId", $("#f-promo").value);
  const r = await api("GET", `/v1/brands/${encodeURIComponent(brandId())}/calendar?${params}`);
  if (!r.ok) { say(`Calendar: ${problemText(r)}`, true); return; }
  if (!state.month) {
    // The first day of the default answer is the server's business date.
    state.today = r.data.days[0].date;
    state.month = monthStart(state.today);
    return loadCalendar();
  }
  state.calendar = new Map(r.data.days.map((d) => [d.date, d]));
  renderCalendar(r.data.policy);
}

const SYMBOL = { available: "✓", overlap: "!", unavailable: "✕" };
const WORD = { available: "available", overlap: "overlaps another campaign", unavailable: "not allowed" };

function renderCalendar(policy) {
  const first = new Date(`${state.month}T00:00:00Z`);
  $("#cal-title").textContent = first.toLocaleDateString("en-US", { month: "long", year: "numeric", timeZone: "UTC" });
  const grid = $("#calendar");
  const cells = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].map((d) => el("div", { class: "dow", "aria-hidden": "true", text: d }));
  for (let i = 0; i < first.getUTCDay(); i++) cells.push(el("div", { "aria-hidden": "true" }));
  const chosen = $("#f-date").value;
  for (const day of state.calendar.values()) {
    const reasons = day.reasons.map((v) => `${v.rule}: ${v.message} (${v.policy || policy})`).join("\n");
    const label = `${day.date}, ${WORD[day.availability]}${reasons ? `. ${reasons}` : ""}`;
    const b = el("button", {
      type: "button", class: `day ${day.availability}`,
      "data-date": day.date, "data-availability": day.availability,
      "aria-pressed": String(day.date === chosen), "aria-label": label,
      "aria-disabled": day.availability === "unavailable" ? "true" : undefined,
      title: reasons || WORD[day.availability],
      onfocus: () => showDayReasons(day, policy), onmouseenter: () => showDayReasons(day, policy),
      onclick: () => { if (day.availability !== "unavailable") chooseDate(day.date); else showDayReasons(day, policy); },
    }, `${Number(day.date.slice(8))} `, el("span", { "aria-hidden": "true", text: SYMBOL[day.availability] }));
    cells.push(b);
  }
  grid.replaceChildren(...cells);
  annotateOverlapDays();
}

function showDayReasons(day, policy) {
  const box = $("#day-reasons");
  box.replaceChildren(el("strong", { text: `${day.date}: ${WORD[day.availability]}. ` }));
  for (const v of day.reasons) box.append(violationLine(v, policy, day.availability === "overlap" ? "warning" : "violation"));
  if (day.lost !== undefined) box.append(el("p", { class: "warning", text: `This date would lose ${day.lost} follower${day.lost === 1 ? "" : "s"} to the frequency cap.` }));
}

// Yellow days say how many followers they would lose: one reach forecast per such day.
async function annotateOverlapDays() {
  const month = state.month;
  for (const b of $$('#calendar .day[data-availability="overlap"]')) {
    const date = b.dataset.date;
    const r = await api("GET", `/v1/brands/${encodeURIComponent(brandId())}/reach?startDate=${date}`);
    if (!r.ok || month !== state.month) return;
    const day = state.calendar.get(date);
    if (day) day.lost = r.data.cappedByOtherCampaigns;
    b.append(el("span", { class: "lost", text: `−${r.data.cappedByOtherCampaigns}` }));
    b.setAttribute("aria-label", `${b.getAttribute("aria-label")}. Would lose ${r.data.cappedByOtherCampaigns} followers to the frequency cap.`);
    b.title = `${b.title}\nWould lose ${r.data.cappedByOtherCampaigns} of ${r.data.followers} followers to the frequency cap`;
  }
}

// Arrow keys move between days (a week up or down), as in any date picker.
function moveInCalendar(ev) {
  const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 }[ev.key];
  if (!step) return;
  const days = $$("#calendar .day");
  const at = days.indexOf(document.activeElement);
  const next = days[at + step];
  if (at < 0 || !next) return;
  ev.preventDefault();
  next.focus();
}

async function chooseDate(date) {
  $("#f-date").value = date;
  for (const b of $$("#calendar .day")) b.setAttribute("aria-pressed", String(b.dataset.date === date));
  await onDateOrProductChange();
}

async function loadReach() {
  const date = $("#f-date").value;
  const box = $("#reach");
  if (!date) { box.replaceChildren(el("span", { class: "muted", text: "Pick a date to see the reach forecast." })); return; }
  const r = await api("GET", `/v1/brands/${encodeURIComponent(brandId())}/reach?startDate=${date}`);
  if (!r.ok) { box.textContent = `Reach: ${problemText(r)}`; return; }
  const d = r.data;
  const parts = [
    el("strong", { text: `${d.reachable} of ${d.followers} followers reachable` }), el("br"),
    `${d.unsubscribed} unsubscribed · ${d.suppressed} suppressed · ${d.cappedByOtherCampaigns} capped by other campaigns`,
  ];
  if (d.cappingCampaigns && d.cappingCampaigns.length) {
    parts.push(el("br"), el("span", { class: "muted", text: `Cap held by ${d.cappingCampaigns.map((c) => `“${c.nickname}” (${c.startDate})`).join(", ")} · ${d.policy}` }));
  }
  box.replaceChildren(...parts);
}

async function loadPromotions() {
  const asin = $("#f-asin").value.trim();
  const date = $("#f-date").value;
  const select = $("#f-promo");
  const keep = select.value;
  const list = $("#promo-ineligible");
  if (!asin || !date) { list.replaceChildren(); return; }
  const params = new URLSearchParams({ asin, startDate: date });
  if ($("#f-theme").value) params.set("theme", $("#f-theme").value);
  const r = await api("GET", `/v1/brands/${encodeURIComponent(brandId())}/promotions?${params}`);
  if (!r.ok) { list.replaceChildren(el("li", { text: `Promotions: ${problemText(r)}` })); return; }
  select.replaceChildren(el("option", { value: "", text: "No promotion" }),
    ...r.data.eligible.map((p) => el("option", { value: p.promotionId, text: `${p.promotionId} · ${p.type} · ${p.startsAt.slice(0, 10)} to ${p.endsAt.slice(0, 10)}` })));
  if (r.data.eligible.some((p) => p.promotionId === keep)) select.value = keep;
  list.replaceChildren(...r.data.ineligible.map((p) => el("li", { text: `${p.promotionId}: not eligible (${p.reasons.map((v) => v.rule).join(", ")})` })));
}

async function onDateOrProductChange() {
  await Promise.all([loadReach(), loadPromotions()]);
  scheduleValidate();
}

async function submitCampaign(ev) {
  ev.preventDefault();
  const body = draft();
  const text = JSON.stringify(body);
  // The same key for a retry of the same draft (a lost answer never makes two campaigns).
  if (text !== state.lastBody) { state.idempotencyKey = crypto.randomUUID(); state.lastBody = text; }
  const r = await api("POST", "/v1/campaigns", body, { "Idempotency-Key": state.idempotencyKey });
  if (r.status === 422 && r.data.violations) {
    showViolations({ policy: r.data.policy, violations: r.data.violations });
    say("Refused: fix the rules shown next to their fields.", true);
    return;
  }
  if (!r.ok) { say(`Not submitted: ${problemText(r)}`, true); return; }
  say(`Submitted “${r.data.nickname}”: ${r.data.status} (${r.data.policy}).`);
  $("#submitted").hidden = false;
  await showPreview(r.data.id, $("#builder-preview"));
  // The new campaign now takes the cap: the days around it and the forecast change.
  if (state.month) await loadCalendar();
  await loadReach();
}

// The server's own HTML in a frame with every sandbox restriction: no script, no form,
// no navigation of this page, an opaque origin.
async function showPreview(id, frame) {
  const r = await api("GET", `/v1/campaigns/${encodeURIComponent(id)}/preview`);
  frame.srcdoc = r.ok ? r.data : `<p>${problemText(r).replace(/[<>&]/g, "")}</p>`;
}

// ---- campaigns -----------------------------------------------------------------------

async function loadCampaigns() {
  const r = await api("GET", `/v1/campaigns?brandId=${encodeURIComponent(brandId())}`);
  const body = $("#campaigns-table tbody");
  if (!r.ok) { say(`Campaigns: ${problemText(r)}`, true); return; }
  const items = r.data.items.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  const rows = await Promise.all(items.map(async (c) => {
    const p = await api("GET", `/v1/campaigns/${encodeURIComponent(c.id)}/performance`);
    const k = p.ok ? p.data : {};
    const status = el("td", {}, el("span", { class: `badge ${c.status}`, text: c.status }));
    if (c.statusReason) status.append(el("div", { class: "small muted", text: c.statusReason }));
    const n = (x) => el("td", { text: x === undefined ? "–" : String(x) });
    return el("tr", { "data-id": c.id },
      el("th", { scope: "row", text: c.nickname }), el("td", { text: c.startDate }), status,
      n(k.targeted), n(k.sent), n(k.skippedFrequencyCap), n(k.skippedSuppressed), n(k.failed),
      el("td", {}, el("button", {
        type: "button", class: "secondary", text: "Preview", "aria-label": `Preview ${c.nickname}`,
        onclick: async () => {
          $("#campaign-preview-box").hidden = false;
          $("#campaign-preview-h").textContent = `Email preview: ${c.nickname}`;
          await showPreview(c.id, $("#campaign-preview"));
        },
      })));
  }));
  body.replaceChildren(...rows);
  if (!rows.length) body.append(el("tr", {}, el("td", { colspan: "9", text: "No campaign yet." })));
}

// ---- moderation ----------------------------------------------------------------------

async function loadQueue() {
  const list = $("#queue");
  if (!(state.claims.roles || []).includes("moderator")) {
    list.replaceChildren(el("li", { text: "This token has no moderator role." }));
    return;
  }
  const r = await api("GET", "/v1/campaigns?status=IN_REVIEW");
  if (!r.ok) { list.replaceChildren(el("li", { text: problemText(r) })); return; }
  list.replaceChildren(...r.data.items.map((c) => {
    const reasonId = `reason-${c.id}`;
    const reason = el("input", { id: reasonId, placeholder: "required to reject" });
    const decide = async (decision) => {
      const reasons = reason.value.trim() ? [reason.value.trim()] : [];
      const m = await api("POST", `/v1/campaigns/${encodeURIComponent(c.id)}/moderation`, { decision, reasons });
      if (!m.ok) { say(`${c.nickname}: ${problemText(m)}`, true); return; }
      say(`${c.nickname}: ${m.data.status}.`);
      loadQueue();
    };
    return el("li", { "data-id": c.id },
      el("h3", { text: `${c.nickname} · ${c.brandId}` }),
      el("p", { class: "small", text: `Starts ${c.startDate} · subject “${c.subject}” · ${c.policy}` }),
      ...(c.warnings || []).map((w) => violationLine(w, c.policy, "warning")),
      el("label", { for: reasonId, text: "Reason" }), reason,
      el("button", { type: "button", text: "Approve", onclick: () => decide("approve") }),
      el("button", { type: "button", class: "danger", text: "Reject", onclick: () => decide("reject") }));
  }));
  if (!r.data.items.length) list.append(el("li", { text: "Nothing to review." }));
}

// ---- reviews -------------------------------------------------------------------------

const REASONS = [["courtesy_refund", "Courtesy refund"], ["customer_support", "Customer support"]];

async function loadReviews(ev) {
  if (ev) ev.preventDefault();
  const params = new URLSearchParams({ brandId: brandId() });
  const stars = $$('#review-filters input[name="stars"]:checked').map((i) => i.value);
  if (stars.length) params.set("stars", stars.join(","));
  if ($("#r-from").value) params.set("from", $("#r-from").value);
  if ($("#r-to").value) params.set("to", $("#r-to").value);
  const r = await api("GET", `/v1/reviews?${params}`);
  const list = $("#review-list");
  if (!r.ok) { list.replaceChildren(el("li", { text: problemText(r) })); return; }
  list.replaceChildren(...r.data.items.map((rv) => {
    const c = rv.contact || {};
    const li = el("li", { "data-id": rv.reviewId },
      el("h3", { text: `${"★".repeat(rv.rating)}${"☆".repeat(5 - rv.rating)} ${rv.title || ""}` }),
      el("p", { class: "small muted", text: `${rv.reviewId} · ${rv.asin} · order ${rv.orderId} · ${rv.postedAt.slice(0, 10)}${rv.verifiedPurchase ? " · verified purchase" : ""}` }),
      el("p", { text: rv.body || "" }));
    if (c.contactedAt) li.append(el("p", { class: "validity ok", text: `Answered ${c.contactedAt}` }));
    else if (c.eligible) {
      for (const [reason, label] of REASONS) {
        li.append(el("button", {
          type: "button", text: label, "aria-label": `${label} for review ${rv.reviewId}`,
          onclick: async () => {
            const res = await api("POST", `/v1/reviews/${encodeURIComponent(rv.reviewId)}/contact`, { reason });
            if (!res.ok) { say(`${rv.reviewId}: ${problemText(res)}`, true); return; }
            say(`${rv.reviewId}: ${label.toLowerCase()} email sent (${res.data.policy}).`);
            loadReviews();
          },
        }));
      }
    } else for (const v of c.reasons || []) li.append(violationLine(v, "", "small muted"));
    return li;
  }));
  if (!r.data.items.length) list.append(el("li", { text: "No review in this period." }));
}

// ---- health --------------------------------------------------------------------------

async function loadHealth() {
  const r = await api("GET", `/v1/brands/${encodeURIComponent(brandId())}/health`);
  const box = $("#health-body");
  if (!r.ok) { box.textContent = problemText(r); return; }
  const h = r.data;
  const pct = (x) => `${(x * 100).toFixed(1)}%`;
  const rate = h.negativeReviewRate;
  box.replaceChildren(
    el("div", { class: "rates" },
      el("div", { class: "rate" }, "Negative reviews, 30 days", el("strong", { text: pct(rate.days30) }),
        el("span", { class: `badge ${rate.level}`, text: `level: ${rate.level}` })),
      el("div", { class: "rate" }, "Negative reviews, 90 days", el("strong", { text: pct(rate.days90) })),
      el("div", { class: "rate" }, "Complaint rate", el("strong", { text: h.complaintRate === null || h.complaintRate === undefined ? "–" : pct(h.complaintRate) }))),
    el("p", { class: "small muted", text: `Policy ${h.policy}. Level from the 30-day rate: under 2% ok, 2–5% watch, over 5% act.` }),
    el("h3", { text: `Unanswered negative reviews (${h.unansweredNegativeReviews.length})` }),
    el("ul", {}, ...h.unansweredNegativeReviews.map((u) => el("li", { text: `${u.reviewId} · ${u.rating}★ · ${u.asin} · waiting ${u.hoursWaiting} h` }))));
}

// ---- wiring --------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", () => {
  $("#signin-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (signIn($("#token").value)) location.hash = "#builder";
  });
  $("#signout").addEventListener("click", signOut);
  const form = $("#campaign-form");
  form.addEventListener("input", (ev) => {
    if (["f-date", "f-asin"].includes(ev.target.id)) return;
    scheduleValidate();
  });
  form.addEventListener("submit", submitCampaign);
  $("#f-date").addEventListener("change", () => {
    const d = $("#f-date").value;
    if (d && state.month && monthStart(d) !== state.month) { state.month = monthStart(d); loadCalendar(); }
    chooseDate(d);
  });
  $("#f-asin").addEventListener("change", onDateOrProductChange);
  $("#f-theme").addEventListener("change", () => { loadCalendar(); loadPromotions(); });
  $("#f-promo").addEventListener("change", () => { loadCalendar(); scheduleValidate(); });
  $("#f-brand").addEventListener("change", () => { state.month = null; loadCalendar(); });
  $("#cal-prev").addEventListener("click", () => { state.month = addMonths(state.month, -1); loadCalendar(); });
  $("#cal-next").addEventListener("click", () => { state.month = addMonths(state.month, 1); loadCalendar(); });
  $("#calendar").addEventListener("keydown", moveInCalendar);
  $("#campaigns-refresh").addEventListener("click", loadCampaigns);
  $("#review-filters").addEventListener("submit", loadReviews);
  window.addEventListener("hashchange", route);
  if (state.token) signIn(state.token);
  route();
});
