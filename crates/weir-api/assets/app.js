// weir dashboard: polls the REST API every 2 s and renders the current tab.
// Plain JavaScript, no framework and no network access besides weir's own API.
"use strict";

const API = new URL("../api/", location.href);
const POLL_MS = 2000;
const ORDER = { disabled: 0, warning: 1, enabled: 2 };
const state = { data: null, traffic: null, prevTraffic: null, rates: {} };

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) =>
  ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const pill = (s) => `<span class="pill ${esc(s)}">${esc(s)}</span>`;
const qualify = (name, provider) => (!name || name.includes("@") ? name : `${name}@${provider}`);

async function get(path) {
  const r = await fetch(new URL(path, API), { cache: "no-store" });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

async function poll() {
  try {
    const all = "?per_page=100000";
    const [overview, routers, services, middlewares, entrypoints, traffic, certificates] = await Promise.all([
      get("overview"), get("http/routers" + all), get("http/services" + all),
      get("http/middlewares" + all), get("entrypoints" + all), get("weir/traffic"),
      get("weir/certificates" + all),
    ]);
    state.data = { overview, routers, services, middlewares, entrypoints, certificates };
    updateRates(traffic);
    $("error").hidden = true;
    $("live").classList.remove("stale");
  } catch (e) {
    $("error").textContent = `Cannot reach the API: ${e.message}`;
    $("error").hidden = false;
    $("live").classList.add("stale");
  }
  render();
}

// Requests per second from the difference between two polls of the counters.
function updateRates(traffic) {
  const now = performance.now();
  const prev = state.traffic;
  state.traffic = { at: now, data: traffic };
  state.rates = {};
  if (!prev || !traffic.enabled || !prev.data.enabled) return;
  const dt = (now - prev.at) / 1000;
  for (const kind of ["entrypoints", "routers", "services"]) {
    for (const [name, cur] of Object.entries(traffic[kind] || {})) {
      const before = (prev.data[kind] || {})[name];
      const delta = cur.total - (before ? before.total : 0);
      state.rates[`${kind}/${name}`] = Math.max(0, delta) / dt;
    }
  }
}

function trafficCell(kind, name) {
  const t = state.traffic && state.traffic.data.enabled && (state.traffic.data[kind] || {})[name];
  if (!t) return `<span class="muted">–</span>`;
  const rate = state.rates[`${kind}/${name}`];
  const codes = Object.entries(t.codes)
    .map(([c, n]) => c.startsWith("grpc ")
      ? `<span class="cg" title="gRPC status ${esc(c.slice(5))}">${esc(c)}×${n}</span>`
      : `<span class="c${esc(c[0])}" title="HTTP ${esc(c)}">${esc(c)}×${n}</span>`)
    .join(" ");
  const r = rate === undefined ? "" : `<b>${rate.toFixed(rate < 10 ? 1 : 0)}</b> req/s · `;
  return `<span class="rate">${r}${t.total} total</span><br><small>${codes}</small>`;
}

function filtered(items, searchIn) {
  const q = $("search").value.trim().toLowerCase();
  const st = $("status").value;
  return items
    .filter((x) => !st || x.status === st)
    .filter((x) => !q || searchIn(x).some((s) => String(s || "").toLowerCase().includes(q)))
    .sort((a, b) => (ORDER[a.status] - ORDER[b.status]) || a.name.localeCompare(b.name));
}

const errorsOf = (x) => (x.error && x.error.length
  ? `<ul class="errors">${x.error.map((e) => `<li>${esc(e)}</li>`).join("")}</ul>` : "");

function table(headers, rows) {
  if (!rows.length) return `<p class="muted">Nothing to show.</p>`;
  const head = headers.map((h) => `<th>${esc(h)}</th>`).join("");
  const body = rows.map((cells) => `<tr>${cells.map((c, i) =>
    `<td data-label="${esc(headers[i])}">${c}</td>`).join("")}</tr>`).join("");
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

// Names as code, comma-separated, or a muted dash for none.
function codes(names) {
  if (!names.length) return `<span class="muted">–</span>`;
  return names.map((n) => `<code>${esc(n)}</code>`).join(", ");
}

function routersTable(routers) {
  return table(["Status", "Name", "Rule", "Entrypoints", "TLS", "Middlewares", "Service", "Traffic"],
    filtered(routers, (r) => [r.name, r.rule, r.service]).map((r) => [
      pill(r.status),
      `<code>${esc(r.name)}</code>${errorsOf(r)}`,
      `<code>${esc(r.rule)}</code>`,
      codes((r.using || r.entryPoints || [])),
      r.tls ? "🔒 yes" : `<span class="muted">no</span>`,
      codes((r.middlewares || []).map((m) => qualify(m, r.provider))),
      `<code>${esc(qualify(r.service, r.provider))}</code>`,
      r.observability && r.observability.metrics === false
        ? `<span class="muted" title="observability.metrics is false">not measured</span>`
        : trafficCell("routers", r.name),
    ]));
}

function servicesTable(services) {
  return table(["Status", "Name", "Type", "Servers", "Used by", "Traffic"],
    filtered(services, (s) => [s.name, s.type]).map((s) => {
      const servers = Object.entries(s.serverStatus || {})
        .map(([url, st]) => `${pill(st)} <code>${esc(url)}</code>`).join("<br>");
      return [
        pill(s.status),
        `<code>${esc(s.name)}</code>${errorsOf(s)}`,
        esc(s.type || "internal"),
        servers || `<span class="muted">–</span>`,
        esc((s.usedBy || []).join(", ")),
        trafficCell("services", s.name),
      ];
    }));
}

function middlewaresTable(mws) {
  return table(["Status", "Name", "Type", "Used by"],
    filtered(mws, (m) => [m.name, m.type]).map((m) => [
      pill(m.status), `<code>${esc(m.name)}</code>${errorsOf(m)}`, esc(m.type), esc((m.usedBy || []).join(", ")),
    ]));
}

function entrypointsTable(eps) {
  return table(["Name", "Address", "Traffic"], eps.map((e) => [
    `<code>${esc(e.name)}</code>`, `<code>${esc(e.address)}</code>`, trafficCell("entrypoints", e.name),
  ]));
}

// Problems first (the API sorts them: expired or broken, expiring soon, then by expiry).
function certificatesTable(certs) {
  return table(["Status", "Name", "Names (SANs)", "Expires", "Days left", "File"],
    certs
      .filter((c) => !$("status").value || c.status === $("status").value)
      .filter((c) => {
        const q = $("search").value.trim().toLowerCase();
        return !q || [c.name, c.certFile, ...(c.sans || [])].some((s) => String(s || "").toLowerCase().includes(q));
      })
      .map((c) => [
        pill(c.status),
        `<code>${esc(c.name)}</code>${c.default ? ` <span class="muted">(default)</span>` : ""}${errorsOf(c)}`,
        esc((c.sans || []).join(", ")) || `<span class="muted">–</span>`,
        esc(c.notAfter || "–"),
        c.daysLeft === undefined ? `<span class="muted">–</span>` : `<b>${esc(c.daysLeft)}</b>`,
        `<code>${esc(c.certFile)}</code> <span class="muted">${esc(c.provider)}</span>`,
      ]));
}

function certCount(certs) {
  return {
    total: certs.length,
    warnings: certs.filter((c) => c.status === "warning").length,
    errors: certs.filter((c) => c.status === "disabled").length,
  };
}

function countCard(title, c) {
  const ok = c.total - c.warnings - c.errors;
  return `<div class="card"><h3>${esc(title)}</h3><div class="big">${c.total}</div>
    <div class="counts"><span class="c2">✔ ${ok}</span><span class="warnings">⚠ ${c.warnings}</span><span class="c5">✖ ${c.errors}</span></div></div>`;
}

function overview(d) {
  const o = d.overview;
  const problems = [...d.routers, ...d.services, ...d.middlewares, ...d.certificates]
    .filter((x) => x.status !== "enabled");
  const f = o.features;
  return `<div class="grid">
      ${countCard("HTTP routers", o.http.routers)}
      ${countCard("HTTP services", o.http.services)}
      ${countCard("HTTP middlewares", o.http.middlewares)}
      ${countCard("Certificates", certCount(d.certificates))}
      <div class="card"><h3>Features</h3>Metrics: ${esc(f.metrics || "off")}<br>Access log: ${f.accessLog ? "on" : "off"}<br>
        Providers: ${esc((o.providers || []).join(", ") || "none")}</div>
    </div>
    <h2>Errors and warnings</h2>
    ${problems.length ? table(["Status", "Element", "Problem"], problems
      .sort((a, b) => ORDER[a.status] - ORDER[b.status])
      .map((x) => [pill(x.status), `<code>${esc(x.name)}</code>`, esc((x.error || []).join("; "))]))
      : `<p class="muted">No problems: everything is enabled.</p>`}
    <h2>Entrypoints</h2>${entrypointsTable(d.entrypoints)}
    <h2>Routers</h2>${routersTable(d.routers)}`;
}

function currentTab() {
  const t = location.hash.replace("#", "");
  return ["overview", "routers", "services", "middlewares", "entrypoints", "certificates"].includes(t) ? t : "overview";
}

function render() {
  const tab = currentTab();
  for (const a of document.querySelectorAll("#tabs a")) a.classList.toggle("active", a.dataset.tab === tab);
  const d = state.data;
  if (!d) return;
  const view = {
    overview: () => overview(d),
    routers: () => routersTable(d.routers),
    services: () => servicesTable(d.services),
    middlewares: () => middlewaresTable(d.middlewares),
    entrypoints: () => entrypointsTable(d.entrypoints),
    certificates: () => certificatesTable(d.certificates),
  }[tab]();
  $("view").innerHTML = view;
}

async function start() {
  window.addEventListener("hashchange", render);
  $("search").addEventListener("input", render);
  $("status").addEventListener("change", render);
  try {
    const v = await get("version");
    $("version").textContent = `${v.dashboardName || "weir"} ${v.Version} · started ${v.startDate}`;
  } catch (_) { /* the poll reports errors */ }
  await poll();
  setInterval(poll, POLL_MS);
}

start();
