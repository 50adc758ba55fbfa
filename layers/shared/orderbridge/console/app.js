// Orderbridge ops console: one dependency-free ES module (no framework, no build step).
//
// Screens (hash routes, so the page needs one URL only): #/orders (live list, filters, search by
// any id, counts per state), #/orders/<id> (tracks, one timeline of every vendor with the raw
// exchanges, the workflow's step, the actions that fit), #/attention (unmapped items mapped in
// place, refused submissions, failed and stuck orders), #/config/<kind> (view and edit through
// the config API; the catalog; the audit trail).
//
// Sign-in: GET <console>/config.json (the stack's Cognito user pool) → Cognito InitiateAuth
// (USER_PASSWORD_AUTH) → the IdToken as "Authorization: Bearer" on the ops API. Without it (or
// by choice) an ops API key, sent as X-Api-Key. Kept in sessionStorage: closing the tab signs out.
// Every value from the API reaches the page as text (textContent), never as HTML.

const BASE = document.querySelector('meta[name="orderbridge-base"]')?.content ?? "";
const POLL_MS = 4000;
const ORDER_POLL_MS = 2500;
const STATES = ["received", "in_progress", "needs_attention", "failed", "stuck", "delivered", "collected", "cancelled", "rejected"];
const STATE_LABEL = {
  received: "Received", in_progress: "In progress", needs_attention: "Needs attention", failed: "Failed",
  stuck: "Stuck", delivered: "Delivered", collected: "Collected", cancelled: "Cancelled", rejected: "Rejected",
};
const ACTION_LABEL = { resume: "Resume", retry: "Retry", cancel: "Cancel order" };
const CONFIG_KINDS = ["branches", "partners", "routes", "mappings", "merchants"];
const CONFIG_LABEL = {
  branches: "Branches", partners: "Partners", routes: "Partner routes", mappings: "Item mappings",
  merchants: "Merchants", catalog: "Catalog", audit: "Audit trail",
};
// A config record's id in the config API's URL: its own `id` when it has one, else its key fields.
const CONFIG_ID = {
  merchants: (r) => r.merchant_id,
  branches: (r) => r.branch_id,
  partners: (r) => r.partner_id,
  routes: (r) => `${r.partner_id}:${r.partner_branch_id}`,
  mappings: (r) => `${r.partner_id}:${r.merchant_id}:${r.kind}:${r.partner_item_id}`,
};
const ENUMS = {
  delivery_mode: ["locker", "home"],
  courier: ["blink_logistics", "dispatchninja"],
  delivered_by: ["platform", "merchant"],
  kind: ["item", "option"],
};

// ---------------------------------------------------------------------------------- tiny DOM

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const main = () => document.getElementById("main");
// replaceChildren would write a null or false child as text: leave them out
function fill(el, ...nodes) {
  el.replaceChildren(...nodes.flat(Infinity).filter((n) => n !== null && n !== undefined && n !== false));
}
function show(...nodes) {
  fill(main(), ...nodes);
}

function notice(text, kind = "info") {
  const box = document.getElementById("notice");
  box.textContent = text;
  box.className = kind === "error" ? "error" : "";
  box.hidden = !text;
  clearTimeout(notice.timer);
  if (text && kind !== "error") notice.timer = setTimeout(() => (box.hidden = true), 6000);
}

const badge = (state) => h("span", { class: `badge ${state}`, "data-state": state }, STATE_LABEL[state] ?? state);
const when = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" }) : "");
const short = (id) => (id && id.length > 13 ? `${id.slice(0, 8)}…` : id ?? "");
const today = () => new Date().toISOString().slice(0, 10);

// ------------------------------------------------------------------------------------ session

const session = {
  load() {
    try { return JSON.parse(sessionStorage.getItem("orderbridge.session") || "null"); } catch { return null; }
  },
  save(value) { sessionStorage.setItem("orderbridge.session", JSON.stringify(value)); },
  clear() { sessionStorage.removeItem("orderbridge.session"); },
};

let signedOutBecause = ""; // shown on the sign-in form after the API refused the credential
let consoleConfig = null; // {auth: {region, userPoolId, clientId, endpoint}, apiBase} or {}

async function loadConsoleConfig() {
  if (consoleConfig) return consoleConfig;
  consoleConfig = {};
  try {
    const answer = await fetch(`${BASE}/console/config.json`, { cache: "no-store" });
    if (answer.ok) consoleConfig = await answer.json();
  } catch { /* not served: API key sign-in only */ }
  return consoleConfig;
}

function apiBase() {
  return (consoleConfig?.apiBase ?? BASE).replace(/\/$/, "");
}

async function cognito(target, body) {
  const auth = consoleConfig.auth;
  const endpoint = auth.endpoint || `https://cognito-idp.${auth.region}.amazonaws.com/`;
  const answer = await fetch(endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": `AWSCognitoIdentityProviderService.${target}` },
    body: JSON.stringify({ ClientId: auth.clientId, ...body }),
  });
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(data.message || data.__type || `sign-in refused (${answer.status})`);
  return data;
}

function signedIn(result, username, previous = {}) {
  const value = {
    kind: "cognito",
    username,
    idToken: result.IdToken,
    refreshToken: result.RefreshToken || previous.refreshToken,
    expiresAt: Date.now() + (result.ExpiresIn || 3600) * 1000,
  };
  session.save(value);
  return value;
}

async function refreshed(current) {
  if (current?.kind !== "cognito" || !current.refreshToken || !consoleConfig?.auth) return null;
  try {
    const data = await cognito("InitiateAuth", {
      AuthFlow: "REFRESH_TOKEN_AUTH",
      AuthParameters: { REFRESH_TOKEN: current.refreshToken },
    });
    return data.AuthenticationResult ? signedIn(data.AuthenticationResult, current.username, current) : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
    this.fields = Object.fromEntries((body?.errors || []).map((e) => [e.field, e.reason]));
  }
}

async function api(method, path, body, { retried = false } = {}) {
  let current = session.load();
  if (!current) throw new ApiError(401, { message: "not signed in" });
  if (current.kind === "cognito" && current.expiresAt - Date.now() < 60_000) current = (await refreshed(current)) || current;
  const headers = { Accept: "application/json" };
  if (current.kind === "cognito") headers.Authorization = `Bearer ${current.idToken}`;
  else headers["X-Api-Key"] = current.key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const answer = await fetch(`${apiBase()}${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
  });
  const text = await answer.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  if ((answer.status === 401 || answer.status === 403) && current.kind === "cognito" && !retried) {
    if (await refreshed(current)) return api(method, path, body, { retried: true });
  }
  if (answer.status === 401 || (answer.status === 403 && data?.message === "Forbidden")) {
    session.clear();
    signedOutBecause = current.kind === "key" ? "The API key was refused." : "Your session ended: sign in again.";
    route();
    throw new ApiError(answer.status, { message: "signed out: sign in again" });
  }
  if (!answer.ok) throw new ApiError(answer.status, data);
  return data;
}

const query = (params) => {
  const kept = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return kept.length ? `?${new URLSearchParams(kept)}` : "";
};

// A list answer of the config API: an array, or the first array in the object.
function listOf(data, kind) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data[kind])) return data[kind];
  if (data && Array.isArray(data.items)) return data.items;
  return Object.values(data || {}).find(Array.isArray) || [];
}

// ------------------------------------------------------------------------------------ polling

let stopLive = () => {};
function live(tick, ms) {
  let timer = null;
  let stopped = false;
  const run = async () => {
    if (stopped) return;
    if (!document.hidden) {
      try { await tick(); } catch (error) { if (!stopped) notice(error.message, "error"); }
    }
    if (!stopped) timer = setTimeout(run, ms);
  };
  run();
  stopLive = () => { stopped = true; clearTimeout(timer); };
}

// ------------------------------------------------------------------------------------- router

function parseHash() {
  const [path, search] = (location.hash.replace(/^#/, "") || "/orders").split("?");
  return { parts: path.split("/").filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(search || "") };
}

async function route() {
  stopLive();
  stopLive = () => {};
  await loadConsoleConfig();
  const current = session.load();
  document.getElementById("nav").hidden = !current;
  document.getElementById("who").hidden = !current;
  if (!current) {
    signInScreen(signedOutBecause);
    signedOutBecause = "";
    return;
  }
  document.getElementById("who-name").textContent = current.kind === "cognito" ? current.username : "API key";
  const { parts, params } = parseHash();
  for (const link of document.querySelectorAll("[data-nav]")) {
    link.toggleAttribute("aria-current", link.dataset.nav === parts[0]);
    if (link.dataset.nav === parts[0]) link.setAttribute("aria-current", "page");
  }
  refreshAttentionCount();
  if (parts[0] === "orders" && parts[1]) return orderScreen(parts[1]);
  if (parts[0] === "attention") return attentionScreen();
  if (parts[0] === "config") return configScreen(parts[1] || "branches", parts[2]);
  return ordersScreen(params);
}

async function refreshAttentionCount() {
  const pill = document.getElementById("attention-count");
  try {
    const lists = await Promise.all(["needs_attention", "failed", "stuck"].map((state) => api("GET", `/ops/orders${query({ state, limit: 200 })}`)));
    const n = lists.reduce((sum, list) => sum + list.orders.length, 0);
    pill.textContent = String(n);
    pill.hidden = n === 0;
  } catch { pill.hidden = true; }
}

// ------------------------------------------------------------------------------------ sign in

function signInScreen(message = "") {
  const cognitoOn = Boolean(consoleConfig?.auth?.clientId);
  const error = h("p", { class: "field-error", role: "alert" }, message);
  const keyForm = h("form", { class: "grid", "aria-label": "Sign in with an API key", onsubmit: (e) => {
    e.preventDefault();
    const key = new FormData(e.target).get("key").trim();
    if (!key) return;
    session.save({ kind: "key", key });
    route();
  } },
  h("label", { class: "wide" }, "Ops API key", h("input", { name: "key", type: "password", autocomplete: "off", required: true })),
  h("div", { class: "actions wide" }, h("button", { type: "submit" }, "Sign in with the key")));
  let passwordForm = null;
  if (cognitoOn) {
    passwordForm = h("form", { class: "grid", "aria-label": "Sign in", onsubmit: async (e) => {
      e.preventDefault();
      const form = new FormData(e.target);
      const username = form.get("username").trim();
      error.textContent = "";
      try {
        const data = await cognito("InitiateAuth", {
          AuthFlow: "USER_PASSWORD_AUTH",
          AuthParameters: { USERNAME: username, PASSWORD: form.get("password") },
        });
        if (data.ChallengeName === "NEW_PASSWORD_REQUIRED") return newPasswordScreen(username, data.Session);
        if (!data.AuthenticationResult) throw new Error(`sign-in needs ${data.ChallengeName || "another step"}`);
        signedIn(data.AuthenticationResult, username);
        route();
      } catch (failure) { error.textContent = failure.message; }
    } },
    h("label", { class: "wide" }, "User name", h("input", { name: "username", autocomplete: "username", required: true })),
    h("label", { class: "wide" }, "Password", h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    h("div", { class: "actions wide" }, h("button", { type: "submit" }, "Sign in")));
  }
  show(h("section", { class: "card signin" },
    h("h1", {}, "Sign in"),
    passwordForm ?? h("p", { class: "muted" }, "This stack has no user pool configured: sign in with an ops API key."),
    error,
    passwordForm ? h("details", {}, h("summary", {}, "Use an API key instead"), keyForm) : keyForm));
}

function newPasswordScreen(username, challengeSession) {
  const error = h("p", { class: "field-error", role: "alert" });
  show(h("section", { class: "card signin" }, h("h1", {}, "Choose a new password"),
    h("form", { class: "grid", onsubmit: async (e) => {
      e.preventDefault();
      try {
        const data = await cognito("RespondToAuthChallenge", {
          ChallengeName: "NEW_PASSWORD_REQUIRED",
          Session: challengeSession,
          ChallengeResponses: { USERNAME: username, NEW_PASSWORD: new FormData(e.target).get("password") },
        });
        signedIn(data.AuthenticationResult, username);
        route();
      } catch (failure) { error.textContent = failure.message; }
    } },
    h("label", { class: "wide" }, "New password", h("input", { name: "password", type: "password", autocomplete: "new-password", required: true })),
    h("div", { class: "actions wide" }, h("button", { type: "submit" }, "Set password and sign in"))), error));
}

// ------------------------------------------------------------------------------------- orders

let branchCache = null;
async function branchIds() {
  if (branchCache) return branchCache;
  try {
    branchCache = listOf(await api("GET", "/ops/config/branches"), "branches").map((b) => ({ id: b.branch_id, name: b.name }));
  } catch {
    try {
      branchCache = (await api("GET", "/ops/branches")).branches.filter((b) => b.configured).map((b) => ({ id: b.branch_id, name: b.name }));
    } catch { branchCache = []; }
  }
  return branchCache;
}

function ordersScreen(params) {
  const filters = {
    q: params.get("q") || "",
    state: params.get("state") || "",
    branch: params.get("branch") || "",
    source: params.get("source") || "",
    date: params.has("date") ? params.get("date") : today(),
  };
  const go = (changes) => {
    const next = { ...filters, ...changes };
    if (next.q) { location.hash = `#/orders${query({ q: next.q })}`; return; }
    // the day is always written (empty: every day), so that no day in the URL means today
    const kept = ["state", "branch", "source"].filter((k) => next[k]).map((k) => [k, next[k]]);
    location.hash = `#/orders?${new URLSearchParams([...kept, ["date", next.date || ""]])}`;
  };
  const counts = h("div", { class: "counts", role: "group", "aria-label": "Orders per state" });
  const body = h("tbody");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more");
  const updated = h("span", { class: "muted" });
  const branchSelect = h("select", { name: "branch" }, h("option", { value: "" }, "All branches"));
  branchIds().then((branches) => {
    for (const b of branches) branchSelect.append(h("option", { value: b.id, selected: b.id === filters.branch }, b.name ? `${b.name} (${b.id})` : b.id));
  });
  const form = h("form", { class: "filters", "aria-label": "Filters", onsubmit: (e) => {
    e.preventDefault();
    const data = Object.fromEntries(new FormData(e.target));
    go({ ...data, q: data.q.trim() });
  } },
  h("label", {}, "Search any id", h("input", { name: "q", type: "search", value: filters.q, placeholder: "ours, Blink, partner, task, rent" })),
  h("label", {}, "State", h("select", { name: "state" }, h("option", { value: "" }, "All states"),
    STATES.map((s) => h("option", { value: s, selected: s === filters.state }, STATE_LABEL[s])))),
  h("label", {}, "Branch", branchSelect),
  h("label", {}, "Source", h("select", { name: "source" }, h("option", { value: "" }, "All sources"),
    ["blink", "partner"].map((s) => h("option", { value: s, selected: s === filters.source }, s === "blink" ? "Blink" : "Delivery partner")))),
  h("label", {}, "Day", h("input", { name: "date", type: "date", value: filters.date })),
  h("div", { class: "actions" }, h("button", { type: "submit" }, "Apply"),
    h("button", { type: "button", class: "secondary", onclick: () => (location.hash = "#/orders") }, "Reset")));
  show(h("h1", {}, filters.q ? `Orders matching “${filters.q}”` : "Orders"), counts, form,
    h("p", { class: "actions" }, updated),
    h("table", { class: "responsive", "aria-label": "Orders" },
      h("thead", {}, h("tr", {}, ["Received", "Order", "Source", "Blink", "Branch", "State", "Blink status", "Courier", "Locker"].map((t) => h("th", {}, t)))),
      body),
    h("div", { class: "actions" }, more));

  const rowOf = (o) => h("tr", { class: "clickable", "data-order": o.order_id, onclick: () => (location.hash = `#/orders/${encodeURIComponent(o.order_id)}`) },
    h("td", { "data-label": "Received" }, when(o.received_at)),
    h("td", { "data-label": "Order" }, h("a", { href: `#/orders/${encodeURIComponent(o.order_id)}`, class: "mono" }, short(o.order_id))),
    h("td", { "data-label": "Source" }, o.partner_id ? `${o.partner_id} ${o.source_order_id}` : `${o.source} ${o.source_order_id}`),
    h("td", { "data-label": "Blink", class: "mono" }, o.blink_order_id || (o.source === "blink" ? o.source_order_id : "")),
    h("td", { "data-label": "Branch" }, o.branch_id),
    h("td", { "data-label": "State" }, badge(o.state), o.step ? h("div", { class: "muted" }, o.step) : null),
    h("td", { "data-label": "Blink status" }, o.status),
    h("td", { "data-label": "Courier" }, o.courier_status || ""),
    h("td", { "data-label": "Locker" }, o.rent_state || ""));

  let cursor = null;
  let pages = 1;
  const listQuery = (extra = {}) => filters.q
    ? { q: filters.q }
    : { state: filters.state, branch: filters.branch, source: filters.source, date: filters.date, ...extra };
  more.onclick = async () => {
    const page = await api("GET", `/ops/orders${query(listQuery({ cursor }))}`);
    body.append(...page.orders.map(rowOf));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    pages += 1;
  };
  const countsTick = async () => {
    if (filters.q) { fill(counts); return; }
    const answer = await api("GET", `/ops/orders/counts${query({ date: filters.date || today(), branch: filters.branch, source: filters.source })}`);
    fill(counts, ...STATES.map((s) => h("button", {
      type: "button", class: "count", "data-count": s, "aria-pressed": String(filters.state === s),
      onclick: () => go({ state: filters.state === s ? "" : s }),
    }, h("b", {}, answer.states[s] ?? 0), h("span", {}, STATE_LABEL[s]))));
  };
  const listTick = async () => {
    if (pages > 1) return; // a person reading further pages: keep them still
    let page;
    try {
      page = await api("GET", `/ops/orders${query(listQuery())}`);
    } catch (error) {
      if (error.status === 400) {
        fill(body, h("tr", {}, h("td", { colspan: 9 }, Object.entries(error.fields).map(([f, r]) => `${f}: ${r}`).join("; ") || error.message)));
        return;
      }
      throw error;
    }
    fill(body, ...(page.orders.length ? page.orders.map(rowOf) : [h("tr", {}, h("td", { colspan: 9, class: "muted" }, "No orders."))]));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    updated.textContent = `Live · updated ${new Date().toLocaleTimeString()}`;
  };
  live(() => Promise.all([listTick(), countsTick().catch(() => fill(counts))]), POLL_MS);
}

// -------------------------------------------------------------------------------------- order

let rawCache = new Map(); // order id → {event_key: raw}

function orderScreen(orderId) {
  const holder = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  show(h("p", {}, h("a", { href: "#/orders" }, "← Orders")), holder);
  const openRaw = new Set();
  let editForm = null; // made once: the poll's redraws keep what a person typed
  let checkForm = null; // the same for the "checked at the vendor" form
  const cancelForm = cancelOrderForm(orderId); // opened by "Cancel order": asks for the reason
  let shown = "";
  const render = (o) => {
    if (o.state === "needs_attention" && !editForm) editForm = editOrderForm(o.order);
    const inDoubt = o.state === "needs_attention" && o.failure?.kind === "VendorOutcomeUnknown" && CALL_IN_DOUBT[o.failure.vendor];
    if (inDoubt && !checkForm) checkForm = vendorCheckForm(orderId, CALL_IN_DOUBT[o.failure.vendor], o.failure.vendor);
    const order = o.order;
    const actions = o.actions || [];
    const facts = [
      ["Our id", order.order_id], ["Source", order.partner_id ? `partner ${order.partner_id}` : order.source],
      ["Source order id", order.source_order_id], ["Blink order id", order.blink_order_id],
      ["Courier task", order.blink_logistics_task_id], ["DispatchNINJA order", order.dispatchninja_order_id],
      ["Merchant", order.merchant_id], ["Branch", order.branch_id], ["Type", order.order_type],
      ["Due", order.due_at ? when(order.due_at) : null], ["Received", when(order.received_at)],
    ].filter(([, v]) => v);
    const unmapped = new Set((order.unmapped || []).map((u) => `${u.kind}:${u.source_id}`));
    fill(holder, 
      h("h1", {}, "Order ", h("span", { class: "mono" }, short(order.order_id)), " ", badge(o.state)),
      o.step || o.deadline ? h("p", { "data-test": "step" }, "Workflow step: ", h("b", {}, o.step || "—"), o.deadline ? ` · deadline ${when(o.deadline)}` : "") : null,
      o.failure ? h("div", { class: `card failure ${o.state}`, role: "note", "data-test": "failure" },
        h("b", {}, o.failure.kind), o.failure.step ? ` at ${o.failure.step}` : "",
        o.failure.vendor ? ` · ${o.failure.vendor}` : "", o.failure.http_status ? ` · HTTP ${o.failure.http_status}` : "",
        h("div", {}, o.failure.message)) : null,
      h("div", { class: "actions", "aria-label": "Actions" },
        actions.map((a) => h("button", { type: "button", class: a === "cancel" ? "danger" : "", "data-action": a, onclick: (e) => (a === "cancel" ? cancelForm.open() : act(orderId, a, e.target)) }, ACTION_LABEL[a] ?? a)),
        actions.length ? null : h("span", { class: "muted" }, "No action fits this order now.")),
      actions.includes("cancel") ? cancelForm : null,
      inDoubt ? checkForm : null,
      o.state === "needs_attention" && unmapped.size ? h("p", {}, "Unmapped items: map them on ", h("a", { href: "#/attention" }, "Needs attention"), ", then retry.") : null,
      h("div", { class: "grid2" },
        h("section", { class: "card" }, h("h2", {}, "Tracks"), h("dl", { class: "facts" },
          h("dt", {}, "Blink status"), h("dd", { "data-track": "status" }, o.tracks.status),
          h("dt", {}, "Courier"), h("dd", { "data-track": "courier" }, o.tracks.courier_status || "—"),
          h("dt", {}, "Locker rent"), h("dd", { "data-track": "rent" }, o.tracks.rent_state || "—"),
          h("dt", {}, "Updated"), h("dd", {}, when(o.tracks.updated_at)))),
        h("section", { class: "card" }, h("h2", {}, "Ids"), h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", { class: "mono" }, v)])))),
      h("section", { class: "card" }, h("h2", {}, "Items"), h("ul", {}, order.items.map((item) => h("li", {},
        `${item.quantity} × ${item.name || item.source_item_id} `, h("span", { class: "muted mono" }, `(${item.source_item_id}${item.blink_id ? ` → Blink ${item.blink_id}` : ""})`),
        unmapped.has(`item:${item.source_item_id}`) ? h("span", { class: "unmapped" }, " unmapped") : null,
        item.options?.length ? h("ul", {}, item.options.map((opt) => h("li", {}, `${opt.quantity} × ${opt.name || opt.source_option_id}`,
          unmapped.has(`option:${opt.source_option_id}`) ? h("span", { class: "unmapped" }, " unmapped") : null))) : null)))),
      o.state === "needs_attention" ? editForm : null,
      h("section", { class: "card" }, h("h2", {}, `Timeline (${o.timeline.length})`),
        h("ol", { class: "timeline", "aria-label": "Timeline" }, o.timeline.map((e) => timelineEntry(orderId, e, openRaw)))));
  };
  live(async () => {
    try {
      const o = await api("GET", `/ops/orders/${encodeURIComponent(orderId)}`);
      const text = JSON.stringify(o);
      if (text !== shown) render(o); // redrawn only when the order changed
      shown = text;
    } catch (error) {
      if (error.status === 404) fill(holder, h("p", {}, `No order ${orderId}.`));
      else throw error;
    }
  }, ORDER_POLL_MS);
}

function timelineEntry(orderId, e, openRaw) {
  const rawBox = h("div", { hidden: !openRaw.has(e.event_key) });
  const fillRaw = async () => {
    let raws = rawCache.get(orderId);
    if (!raws || !(e.event_key in raws)) {
      const full = await api("GET", `/ops/orders/${encodeURIComponent(orderId)}?include=raw`);
      raws = Object.fromEntries(full.timeline.map((t) => [t.event_key, t.raw]));
      rawCache.set(orderId, raws);
    }
    const raw = raws[e.event_key];
    let pretty = raw ?? "(no raw exchange kept: written by Orderbridge)";
    try { if (raw) pretty = JSON.stringify(JSON.parse(raw), null, 2); } catch { /* as received */ }
    fill(rawBox, 
      Object.keys(e.detail || {}).length ? h("div", {}, h("h3", {}, "Detail"), h("pre", {}, JSON.stringify(e.detail, null, 2))) : null,
      h("h3", {}, "Raw exchange"), h("pre", { "data-test": "raw" }, pretty));
  };
  if (openRaw.has(e.event_key)) fillRaw().catch(() => {});
  return h("li", { class: e.applied ? "" : "late", "data-kind": e.kind },
    h("span", { class: "when" }, when(e.at || e.received_at)),
    h("span", { class: `src ${e.source}` }, e.source), " ",
    h("b", {}, e.kind), " — ", e.summary, e.applied ? "" : h("span", { class: "muted" }, " (late: recorded, changed nothing)"), " ",
    h("button", { type: "button", class: "link", "aria-expanded": String(openRaw.has(e.event_key)), onclick: async (ev) => {
      if (openRaw.has(e.event_key)) { openRaw.delete(e.event_key); rawBox.hidden = true; ev.target.setAttribute("aria-expanded", "false"); return; }
      openRaw.add(e.event_key);
      ev.target.setAttribute("aria-expanded", "true");
      rawBox.hidden = false;
      fill(rawBox, h("p", { class: "muted" }, "Loading…"));
      await fillRaw();
    } }, "raw"),
    rawBox);
}

async function act(orderId, action, button, body) {
  const question = { resume: "Resume this order's workflow from where it stands?", retry: "Retry this order now?" }[action];
  if (question && !confirm(question)) return;
  button.disabled = true;
  try {
    const answer = await api("POST", `/ops/orders/${encodeURIComponent(orderId)}/${action}`, body);
    notice(`${ACTION_LABEL[action] ?? action}: done${answer?.execution ? ` (execution ${answer.execution})` : ""}.${answer?.courier ? ` Note: ${answer.courier}.` : ""}`);
  } catch (error) {
    notice(`${ACTION_LABEL[action] ?? action} refused: ${Object.values(error.fields).join("; ") || error.message}`, "error");
  } finally {
    button.disabled = false;
  }
}

// POST /ops/orders/{id}/cancel needs a reason (1 to 500 characters): Blink gets it as its rejection comment.
function cancelOrderForm(orderId) {
  const errors = h("p", { class: "field-error", role: "alert" });
  const reason = h("textarea", { name: "reason", required: true, maxlength: "500", rows: "2" });
  const form = h("form", { class: "card grid", hidden: true, "aria-label": "Cancel the order", onsubmit: async (e) => {
    e.preventDefault();
    const text = reason.value.trim();
    if (!text) { errors.textContent = "reason: give the reason (Blink requires a comment)"; return; }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const answer = await api("POST", `/ops/orders/${encodeURIComponent(orderId)}/cancel`, { reason: text });
      errors.textContent = "";
      form.hidden = true;
      notice(`${ACTION_LABEL.cancel}: done (execution ${answer.execution}).${answer.courier ? ` Note: ${answer.courier}.` : ""}`);
    } catch (error) {
      errors.textContent = Object.entries(error.fields || {}).map(([f, r]) => `${f}: ${r}`).join("; ") || error.message;
    } finally { submit.disabled = false; }
  } },
    h("p", {}, "The locker is released and Blink is told the order is rejected, with this reason."),
    h("label", { class: "wide" }, "Why is it cancelled?", reason),
    h("div", { class: "actions wide" }, h("button", { type: "submit", class: "danger" }, "Cancel the order"),
      h("button", { type: "button", onclick: () => { form.hidden = true; } }, "Keep it")), errors);
  form.open = () => { form.hidden = false; reason.focus(); };
  return form;
}

// A call whose outcome is unknown (failure kind VendorOutcomeUnknown), by the failure's vendor: the
// call a person checks at the vendor (PATCH /ops/orders/{id} checked_at_vendor), then retries.
const CALL_IN_DOUBT = { dispatchninja: "dispatchninja_add", blink: "blink_submit" };
const VENDOR_NAME = { dispatchninja: "DispatchNINJA", blink: "Blink" };

function vendorCheckForm(orderId, call, vendor) {
  const errors = h("p", { class: "field-error", role: "alert" });
  const name = VENDOR_NAME[vendor] ?? vendor;
  const idInput = h("input", { name: "found_id", "aria-label": `The id at ${name}`, maxlength: "128", pattern: "[A-Za-z0-9._:\\-]+" });
  return h("section", { class: "card", "data-test": "vendor-check" }, h("h2", {}, `Checked at ${name}?`),
    h("p", { class: "muted" }, `The call to ${name} may have reached it: look there, say what you found, then it is retried.`),
    h("form", { class: "grid", "aria-label": "Checked at the vendor", onsubmit: async (e) => {
      e.preventDefault();
      const data = Object.fromEntries(new FormData(e.target));
      const check = { call };
      if (data.found === "found") {
        if (!data.found_id?.trim()) { errors.textContent = `found_id: give the id ${name} shows`; return; }
        check.found_id = data.found_id.trim();
      }
      const submit = e.target.querySelector("button[type=submit]");
      submit.disabled = true;
      try {
        await api("PATCH", `/ops/orders/${encodeURIComponent(orderId)}`, { checked_at_vendor: check });
        const answer = await api("POST", `/ops/orders/${encodeURIComponent(orderId)}/retry`);
        errors.textContent = "";
        notice(`Recorded what ${name} has; retried (execution ${answer.execution}).`);
      } catch (error) {
        errors.textContent = Object.entries(error.fields || {}).map(([f, r]) => `${f}: ${r}`).join("; ") || error.message;
      } finally { submit.disabled = false; }
    } },
    h("label", {}, h("input", { type: "radio", name: "found", value: "found", required: true }), ` Found at ${name}: id `, idInput),
    h("label", {}, h("input", { type: "radio", name: "found", value: "nothing" }), ` Nothing at ${name} (the call is sent again)`),
    h("div", { class: "actions wide" }, h("button", { type: "submit" }, "Record and retry")), errors));
}

function editOrderForm(order) {
  const address = order.delivery_address || {};
  const errors = h("p", { class: "field-error", role: "alert" });
  const text = (name, label, value) => h("label", {}, label, h("input", { name, value: value ?? "" }));
  return h("details", { class: "card" }, h("summary", {}, "Fix the customer's address or contact"),
    h("form", { class: "grid", "aria-label": "Fix the order", onsubmit: async (e) => {
      e.preventDefault();
      const data = Object.fromEntries(new FormData(e.target));
      const body = {};
      for (const key of ["customer_name", "customer_phone", "customer_email"]) if (data[key]) body[key] = data[key];
      if (data.street) body.delivery_address = { house_num: data.house_num, street: data.street, building: data.building || null, area: data.area, city: data.city };
      try {
        const answer = await api("PATCH", `/ops/orders/${encodeURIComponent(order.order_id)}`, body);
        notice(`Saved: ${answer.changed.join(", ")}. Retry the order when it is all fixed.`);
        errors.textContent = "";
      } catch (error) { errors.textContent = Object.entries(error.fields).map(([f, r]) => `${f}: ${r}`).join("; ") || error.message; }
    } },
    text("customer_name", "Customer name", order.customer?.name), text("customer_phone", "Phone", ""),
    text("customer_email", "E-mail", ""), text("house_num", "House number", address.house_num),
    text("street", "Street", address.street), text("building", "Building", address.building),
    text("area", "Area", address.area), text("city", "City", address.city),
    h("div", { class: "actions wide" }, h("button", { type: "submit" }, "Save")), errors));
}

// ---------------------------------------------------------------------------- needs attention

function attentionScreen() {
  const unmappedBox = h("div");
  const refusedBox = h("div");
  const failedBox = h("div");
  const stuckBox = h("div");
  const updated = h("span", { class: "muted" });
  show(h("h1", {}, "Needs attention"), h("p", {}, updated),
    h("section", { "aria-label": "Unmapped items" }, h("h2", {}, "Unmapped items"), unmappedBox),
    h("section", { "aria-label": "Refused submissions" }, h("h2", {}, "Refused submissions and other fixes"), refusedBox),
    h("section", { "aria-label": "Failed orders" }, h("h2", {}, "Failed orders"), failedBox),
    h("section", { "aria-label": "Stuck orders" }, h("h2", {}, "Stuck orders"), stuckBox));
  const editing = new Set(); // forms a person is typing into: left alone by the poll
  const drawn = new Map();
  live(async () => {
    const [attention, failed, stuck] = await Promise.all(["needs_attention", "failed", "stuck"].map((state) => api("GET", `/ops/orders${query({ state, limit: 100 })}`)));
    const details = await Promise.all(attention.orders.slice(0, 25).map((o) => api("GET", `/ops/orders/${encodeURIComponent(o.order_id)}`).catch(() => null)));
    const unmapped = details.filter((d) => d && d.order.unmapped?.length);
    const refused = attention.orders.filter((o) => !unmapped.some((d) => d.order_id === o.order_id));
    const keep = new Set(unmapped.map((d) => d.order_id));
    for (const id of [...drawn.keys()]) if (!keep.has(id)) { drawn.get(id).remove(); drawn.delete(id); editing.delete(id); }
    for (const d of unmapped) {
      // redrawn only when what it shows changed, and never under a person's typing
      const shown = JSON.stringify([d.order.unmapped, d.failure, d.state]);
      if (drawn.has(d.order_id) && (editing.has(d.order_id) || drawn.get(d.order_id).dataset.shown === shown)) continue;
      const card = unmappedCard(d, () => editing.add(d.order_id));
      card.dataset.shown = shown;
      if (drawn.has(d.order_id)) drawn.get(d.order_id).replaceWith(card);
      else unmappedBox.append(card);
      drawn.set(d.order_id, card);
    }
    unmappedBox.querySelector(".empty")?.remove();
    if (!unmapped.length) fill(unmappedBox, h("p", { class: "muted empty" }, "Every item is mapped."));
    fill(refusedBox, orderCards(refused, "Nothing refused."));
    fill(failedBox, orderCards(failed.orders, "No failed orders."));
    fill(stuckBox, orderCards(stuck.orders, "No stuck orders."));
    updated.textContent = `Live · updated ${new Date().toLocaleTimeString()}`;
  }, POLL_MS);
}

function orderCards(orders, empty) {
  if (!orders.length) return h("p", { class: "muted" }, empty);
  return h("div", {}, orders.map((o) => h("div", { class: "card", "data-order": o.order_id },
    h("div", { class: "actions" }, h("a", { href: `#/orders/${encodeURIComponent(o.order_id)}`, class: "mono" }, short(o.order_id)), badge(o.state),
      h("span", {}, `${o.partner_id || o.source} ${o.source_order_id}`), h("span", { class: "muted" }, `branch ${o.branch_id} · ${when(o.received_at)}`)),
    o.failure ? h("div", {}, h("b", {}, o.failure.kind), o.failure.step ? ` at ${o.failure.step}` : "", o.failure.vendor ? ` · ${o.failure.vendor}` : "",
      o.failure.http_status ? ` · HTTP ${o.failure.http_status}` : "", " — ", o.failure.message) : o.step ? h("div", { class: "muted" }, `waiting on ${o.step}`) : null)));
}

function unmappedCard(detail, onEdit) {
  const order = detail.order;
  const status = h("p", { class: "field-error", role: "alert" });
  const nameOf = (u) => {
    const item = order.items[u.item_index];
    if (u.kind === "item") return item?.name;
    return item?.options?.find((opt) => opt.source_option_id === u.source_id)?.name;
  };
  const catalogList = `catalog-${order.merchant_id}`;
  ensureCatalogList(order.merchant_id, catalogList);
  const rows = order.unmapped.map((u, i) => h("fieldset", { class: "card", "data-unmapped": `${u.kind}:${u.source_id}` },
    h("legend", {}, `${u.kind} ${u.source_id}`, nameOf(u) ? ` “${nameOf(u)}”` : ""),
    h("input", { type: "hidden", name: `kind-${i}`, value: u.kind }),
    h("input", { type: "hidden", name: `source-${i}`, value: u.source_id }),
    h("label", {}, "Our product id", h("input", { name: `product-${i}`, required: true, value: "" })),
    h("label", {}, "Blink item id", h("input", { name: `blink-${i}`, required: true, list: catalogList, value: "" })),
    h("label", {}, "Name", h("input", { name: `name-${i}`, value: nameOf(u) || "" }))));
  return h("div", { class: "card", "data-order": order.order_id },
    h("div", { class: "actions" }, h("a", { href: `#/orders/${encodeURIComponent(order.order_id)}`, class: "mono" }, short(order.order_id)), badge(detail.state),
      h("span", {}, `partner ${order.partner_id || "—"} order ${order.source_order_id} · branch ${order.branch_id}`)),
    detail.failure ? h("p", {}, detail.failure.message) : null,
    h("form", { "aria-label": `Map the items of ${order.order_id}`, oninput: onEdit, onsubmit: async (e) => {
      e.preventDefault();
      const data = Object.fromEntries(new FormData(e.target));
      const button = e.target.querySelector("button[type=submit]");
      button.disabled = true;
      status.textContent = "";
      try {
        for (let i = 0; i < order.unmapped.length; i += 1) {
          const record = {
            partner_id: order.partner_id, merchant_id: order.merchant_id, kind: data[`kind-${i}`],
            partner_item_id: data[`source-${i}`], product_id: data[`product-${i}`].trim(),
            blink_id: data[`blink-${i}`].trim() || null, name: data[`name-${i}`].trim() || null,
          };
          await api("PUT", `/ops/config/mappings/${encodeURIComponent(CONFIG_ID.mappings(record))}`, record);
        }
        await api("POST", `/ops/orders/${encodeURIComponent(order.order_id)}/retry`);
        notice(`Mapped ${order.unmapped.length} item(s) and retried order ${short(order.order_id)}.`);
      } catch (error) {
        status.textContent = Object.entries(error.fields).map(([f, r]) => `${f}: ${r}`).join("; ") || error.message;
        button.disabled = false;
      }
    } }, rows, h("div", { class: "actions" }, h("button", { type: "submit" }, "Save mappings and retry")), status));
}

const catalogLists = new Set();
async function ensureCatalogList(merchant, id) {
  if (!merchant || catalogLists.has(id)) return;
  catalogLists.add(id);
  const list = h("datalist", { id });
  document.body.append(list);
  try {
    const catalog = await api("GET", `/ops/catalog/${encodeURIComponent(merchant)}`);
    list.append(...catalog.items.map((entry) => h("option", { value: entry.item.item_id }, `${entry.item.name} (${entry.item.price})`)));
  } catch { /* no catalog yet: ids are typed */ }
}

// ------------------------------------------------------------------------------ configuration

function configTabs(kind) {
  return h("nav", { class: "tabs", "aria-label": "Configuration" }, [...CONFIG_KINDS, "catalog", "audit"].map((k) =>
    h("a", { href: `#/config/${k}`, "aria-current": k === kind ? "page" : null }, CONFIG_LABEL[k])));
}

async function configScreen(kind, id) {
  const holder = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  show(h("h1", {}, "Configuration"), configTabs(kind), holder);
  try {
    if (kind === "catalog") return await catalogView(holder);
    if (kind === "audit") return await auditView(holder);
    if (!CONFIG_KINDS.includes(kind)) return fill(holder, h("p", {}, `No configuration kind ${kind}.`));
    if (id !== undefined) return await recordEditor(holder, kind, id);
    const records = listOf(await api("GET", `/ops/config/${kind}`), kind);
    const columns = [...new Set(records.flatMap((r) => Object.keys(r)))].filter((c) => !["id", "record_type"].includes(c)).slice(0, 7);
    fill(holder, 
      h("div", { class: "actions" }, h("a", { class: "button", href: `#/config/${kind}/${encodeURIComponent("+")}` }, `Add ${kind.replace(/s$/, "").replace("branche", "branch")}`)),
      records.length ? h("table", { class: "responsive", "aria-label": CONFIG_LABEL[kind] },
        h("thead", {}, h("tr", {}, columns.map((c) => h("th", {}, c)), h("th", {}, ""))),
        h("tbody", {}, records.map((r) => {
          const recordId = r.id ?? CONFIG_ID[kind](r);
          return h("tr", { "data-record": recordId },
            columns.map((c) => h("td", { "data-label": c }, cell(r[c]))),
            h("td", {}, h("a", { href: `#/config/${kind}/${encodeURIComponent(recordId)}` }, "Edit")));
        }))) : h("p", { class: "muted" }, "None yet."));
  } catch (error) {
    fill(holder, h("p", { class: "field-error" }, error.status === 403 || error.status === 404
      ? `The config API does not answer here (${error.status}): ${error.message}`
      : error.message));
  }
}

const cell = (v) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));

// The fields of each kind of record (the configuration file's; docs/configuration.md) and how each
// is edited. A field the API sends that is not here is edited by its value's type.
const FIELDS = {
  merchants: { merchant_id: "id", name: "text" },
  branches: {
    branch_id: "id", merchant_id: "text", name: "text", blink_id: "text", address: "text", latitude: "text",
    longitude: "text", delivery_mode: "enum", allow_home_delivery_fallback: "bool", courier: "enum",
    bloq_ids: "json", pickup_bloq_id: "text", blink_address: "json",
  },
  partners: {
    partner_id: "id", name: "text", enabled: "bool", display_name: "text", contact_phone: "text",
    delivered_by: "enum", tokens_secret: "text",
  },
  routes: { partner_id: "id", partner_branch_id: "id", merchant_id: "text", branch_id: "text" },
  mappings: { partner_id: "id", merchant_id: "id", kind: "id", partner_item_id: "id", product_id: "text", blink_id: "text", name: "text" },
};
const DEFAULTS = { enabled: true, allow_home_delivery_fallback: true, delivery_mode: "locker", courier: "blink_logistics", delivered_by: "platform", kind: "item" };

function fieldKind(key, value, known) {
  if (known[key]) return known[key] === "id" ? "id" : known[key];
  if (typeof value === "boolean") return "bool";
  if (value !== null && typeof value === "object") return "json";
  return "text";
}

async function recordEditor(holder, kind, id) {
  const isNew = id === "+";
  const record = isNew ? {} : await api("GET", `/ops/config/${kind}/${encodeURIComponent(id)}`);
  const known = FIELDS[kind];
  const keys = [...new Set([...Object.keys(known), ...Object.keys(record)])].filter((k) => k !== "record_type");
  const errors = h("p", { class: "field-error", role: "alert" });
  const fieldErrors = {};
  const inputs = keys.map((key) => {
    const type = fieldKind(key, record[key], known);
    const value = key in record ? record[key] : isNew ? DEFAULTS[key] : undefined;
    const error = h("span", { class: "field-error" });
    fieldErrors[key] = error;
    let input;
    if (type === "bool") input = h("input", { type: "checkbox", name: key, checked: value ?? false, "data-type": "bool" });
    else if (ENUMS[key] && !(type === "id" && !isNew)) {
      input = h("select", { name: key, "data-type": "text" }, ENUMS[key].map((opt) => h("option", { value: opt, selected: opt === value }, opt)));
    } else if (type === "json") input = h("textarea", { name: key, "data-type": "json" }, value === undefined ? "" : JSON.stringify(value, null, 2));
    else input = h("input", { name: key, value: value ?? "", readonly: type === "id" && !isNew, "data-type": "text" });
    return h("label", { class: type === "json" ? "wide" : "" }, key, input, error);
  });
  fill(holder, h("h2", {}, isNew ? `New ${kind.replace(/s$/, "").replace("branche", "branch")}` : `${CONFIG_LABEL[kind]}: ${id}`),
    h("form", { class: "grid", "aria-label": `Edit ${kind}`, onsubmit: async (e) => {
      e.preventDefault();
      errors.textContent = "";
      Object.values(fieldErrors).forEach((el) => (el.textContent = ""));
      const body = {};
      for (const el of e.target.elements) {
        if (!el.name) continue;
        if (el.dataset.type === "bool") body[el.name] = el.checked;
        else if (el.dataset.type === "json") {
          if (!el.value.trim()) continue;
          try { body[el.name] = JSON.parse(el.value); } catch { fieldErrors[el.name].textContent = "not valid JSON"; return; }
        } else if (el.value.trim() !== "") body[el.name] = el.value.trim();
      }
      const recordId = isNew ? CONFIG_ID[kind](body) : id;
      try {
        const report = await api("PUT", `/ops/config/${kind}/${encodeURIComponent(recordId)}`, body);
        branchCache = null;
        const changed = report?.changes?.[0]?.changed ?? [];
        notice(`Saved ${kind.replace(/s$/, "").replace("branche", "branch")} ${recordId}${changed.length ? `: ${changed.join(", ")} changed` : " (nothing changed)"}.`);
        location.hash = `#/config/${kind}`;
      } catch (error) {
        for (const [field, reason] of Object.entries(error.fields)) {
          const top = field.split(".")[0];
          if (fieldErrors[top]) fieldErrors[top].textContent = `${field}: ${reason}`;
          else errors.textContent += `${field}: ${reason}. `;
        }
        if (!Object.keys(error.fields).length) errors.textContent = error.message;
      }
    } }, inputs,
    h("div", { class: "actions wide" }, h("button", { type: "submit" }, "Save"), h("a", { href: `#/config/${kind}` }, "Cancel")), errors));
}

async function catalogView(holder) {
  let merchants = [];
  try { merchants = listOf(await api("GET", "/ops/config/merchants"), "merchants").map((m) => m.merchant_id); } catch {
    merchants = [...new Set((await api("GET", "/ops/branches")).branches.map((b) => b.merchant_id))];
  }
  const { params } = parseHash();
  const merchant = params.get("merchant") || merchants[0];
  if (!merchant) return fill(holder, h("p", { class: "muted" }, "No merchant configured."));
  const catalog = await api("GET", `/ops/catalog/${encodeURIComponent(merchant)}`);
  const branches = await branchIds();
  const picker = h("select", { onchange: (e) => (location.hash = `#/config/catalog?merchant=${encodeURIComponent(e.target.value)}`) },
    merchants.map((m) => h("option", { value: m, selected: m === merchant }, m)));
  fill(holder, h("label", {}, "Merchant", picker),
    catalog.flags.length ? h("section", { class: "card" }, h("h2", {}, "Mappings to look at"), h("ul", {}, catalog.flags.map((f) => h("li", {},
      `${f.partner_id} ${f.kind} ${f.partner_item_id}: ${f.reason} — ${f.detail} `,
      h("button", { type: "button", class: "link", onclick: async () => {
        await api("DELETE", `/ops/catalog/${encodeURIComponent(merchant)}/flags/${encodeURIComponent(f.flag_id)}`);
        notice("Flag cleared."); route();
      } }, "clear"))))) : null,
    catalog.pending.length ? h("p", { class: "muted" }, `${catalog.pending.length} stock/price change(s) waiting for Blink.`) : null,
    catalog.items.length ? h("table", { class: "responsive", "aria-label": "Catalog" },
      h("thead", {}, h("tr", {}, ["Item", "Name", "Price", "Branches", "Set stock / price"].map((t) => h("th", {}, t)))),
      h("tbody", {}, catalog.items.map((entry) => {
        const item = entry.item;
        return h("tr", {},
          h("td", { "data-label": "Item", class: "mono" }, item.item_id),
          h("td", { "data-label": "Name" }, item.name),
          h("td", { "data-label": "Price" }, item.price, item.discount_price ? ` (${item.discount_price})` : ""),
          h("td", { "data-label": "Branches" }, item.branches.map((b) => `${b.branch_id}${b.is_active === false ? " off" : ""}${b.stock_quantity != null ? ` ×${b.stock_quantity}` : ""}`).join(", ")),
          h("td", { "data-label": "Set" }, stockForm(merchant, item, branches)));
      }))) : h("p", { class: "muted" }, "The catalog sync has not read this merchant's menu yet."));
}

function stockForm(merchant, item, branches) {
  const error = h("span", { class: "field-error" });
  // the branches the menu lists the item at, else the merchant's configured ones
  const ids = item.branches.length ? item.branches.map((b) => b.branch_id) : branches.map((b) => b.id);
  return h("details", {}, h("summary", {}, "Set…"), h("form", { class: "actions", "aria-label": `Stock and price of ${item.name}`, onsubmit: async (e) => {
    e.preventDefault();
    const data = Object.fromEntries(new FormData(e.target));
    const body = { branch_id: data.branch_id };
    if (data.stock_quantity !== "") body.stock_quantity = Number(data.stock_quantity);
    if (data.price !== "") body.price = data.price;
    if (data.is_active !== "") body.is_active = data.is_active === "true";
    try {
      await api("PUT", `/ops/catalog/${encodeURIComponent(merchant)}/items/${encodeURIComponent(item.item_id)}`, body);
      notice(`Stock/price of ${item.name} at branch ${data.branch_id} set: Blink gets it with the next push.`);
      error.textContent = "";
    } catch (failure) { error.textContent = Object.entries(failure.fields).map(([f, r]) => `${f}: ${r}`).join("; ") || failure.message; }
  } },
  h("select", { name: "branch_id", "aria-label": "Branch" }, ids.map((id) => h("option", { value: id }, id))),
  h("input", { name: "stock_quantity", type: "number", min: 0, placeholder: "stock", "aria-label": "Stock", style: "width:5rem" }),
  h("input", { name: "price", inputmode: "decimal", placeholder: "price", "aria-label": "Price", style: "width:6rem" }),
  h("select", { name: "is_active", "aria-label": "Available", style: "width:auto" }, h("option", { value: "" }, "availability as is"),
    h("option", { value: "true" }, "available"), h("option", { value: "false" }, "not available")),
  h("button", { type: "submit", class: "secondary" }, "Set"), error));
}

async function auditView(holder) {
  const body = h("tbody");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Older changes");
  const rowOf = (e) => h("tr", {},
    h("td", { "data-label": "When" }, when(e.at || e.when)), h("td", { "data-label": "Who" }, e.who),
    h("td", { "data-label": "Kind" }, e.kind), h("td", { "data-label": "Id", class: "mono" }, e.id),
    h("td", { "data-label": "Change" }, h("details", {}, h("summary", {}, e.action ? `${e.action}: before / after` : "before / after"),
      h("pre", {}, `before: ${JSON.stringify(e.before, null, 2)}\nafter: ${JSON.stringify(e.after, null, 2)}`))));
  let cursor = null;
  const page = async () => {
    const data = await api("GET", `/ops/config/audit${query({ cursor })}`);
    body.append(...listOf(data, "entries").map(rowOf));
    cursor = data.next_cursor;
    more.hidden = !cursor;
  };
  more.onclick = page;
  await page();
  fill(holder, body.children.length ? h("table", { class: "responsive", "aria-label": "Audit trail" },
    h("thead", {}, h("tr", {}, ["When", "Who", "Kind", "Id", "Change"].map((t) => h("th", {}, t)))), body)
    : h("p", { class: "muted" }, "No change recorded yet."), h("div", { class: "actions" }, more));
}

// ---------------------------------------------------------------------------------------- start

document.getElementById("sign-out").addEventListener("click", () => {
  session.clear();
  rawCache = new Map();
  location.hash = "#/orders";
  route();
});
window.addEventListener("hashchange", route);
document.addEventListener("visibilitychange", () => { if (!document.hidden) refreshAttentionCount(); });
route();
