// The operator page: reads /api/ops/summary and /api/ops/actions with the operator token, every 10 s.
// The token comes from the form or from "#token=..." (then removed from the address), kept in sessionStorage.
"use strict";

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 10000;
let timer = null;

function token() { return sessionStorage.getItem("geulssi-ops-token") || ""; }
function actor() { return sessionStorage.getItem("geulssi-ops-actor") || ""; }

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${token()}`, ...(options.headers || {}) };
  if (actor()) headers["X-Operator"] = actor();
  const response = await fetch(path, { ...options, headers });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(body.detail || `the server answered ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

function age(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function when(iso) { return iso ? new Date(iso).toLocaleString() : "–"; }

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "–" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function button(row, label, onClick) {
  const td = document.createElement("td");
  const b = document.createElement("button");
  b.type = "button";
  b.className = "small quiet";
  b.textContent = label;
  b.addEventListener("click", onClick);
  td.appendChild(b);
  row.appendChild(td);
}

function fill(tableId, items, draw) {
  const body = $(tableId).querySelector("tbody");
  body.replaceChildren();
  for (const item of items) {
    const row = document.createElement("tr");
    draw(row, item);
    body.appendChild(row);
  }
}

function say(text) {
  $("message").textContent = text;
  $("message").hidden = !text;
}

async function act(path, body) {
  try {
    const options = { method: "POST" };
    if (body) {
      options.body = JSON.stringify(body);
      options.headers = { "Content-Type": "application/json" };
    }
    await api(path, options);
    say("");
  } catch (error) {
    say(error.message);
  }
  refresh();
}

function draw(summary, actions) {
  const tiles = $("job-tiles");
  tiles.replaceChildren();
  for (const [state, count] of Object.entries(summary.jobs)) {
    const tile = document.createElement("div");
    tile.className = `tile ${state}`;
    tile.id = `jobs-${state}`;
    const b = document.createElement("b");
    b.textContent = count;
    tile.append(b, state);
    tiles.appendChild(tile);
  }
  $("queue-line").textContent =
    `Oldest queued job: ${age(summary.oldest_queued_age_seconds)} · finished last hour: ` +
    `${summary.finished_last_hour} · last 24 h: ${summary.finished_last_24h} ` +
    `(${summary.finished_per_hour_24h} per hour) · failed last 24 h: ${summary.failed_last_24h}`;
  const intake = summary.intake;
  $("intake-line").textContent = intake.paused
    ? `Intake PAUSED by ${intake.changed_by} (${intake.reason || "no reason"}) since ${when(intake.changed_at)}`
    : "Intake open: new submissions are accepted.";
  $("intake-line").className = intake.paused ? "paused" : "";

  fill("running", summary.running || [], (row, j) => {
    cell(row, j.job_id); cell(row, j.kind); cell(row, j.stage || "starting");
    cell(row, `${(j.progress * 100).toFixed(0)}%`); cell(row, age(j.elapsed_seconds)); cell(row, age(j.stage_seconds));
    cell(row, j.worker || "–");
    button(row, "Cancel", () => act(`/api/ops/jobs/${encodeURIComponent(j.job_id)}/cancel`));
  });
  fill("stages", summary.stages, (row, s) => {
    cell(row, s.stage); cell(row, s.count); cell(row, age(s.median_seconds)); cell(row, age(s.p95_seconds));
  });
  fill("workers", summary.workers, (row, w) => {
    row.className = w.lost ? "lost" : "";
    cell(row, w.id); cell(row, w.hostname); cell(row, w.device); cell(row, w.current_job_id); cell(row, w.stage);
    cell(row, `${age(w.seconds_since_heartbeat)} ago`); cell(row, w.lost ? "LOST" : "alive");
    if (w.lost) button(row, "Requeue its jobs", () => act(`/api/ops/workers/${encodeURIComponent(w.id)}/requeue`));
    else if (w.current_job_id) {
      button(row, "Cancel its job", () => act(`/api/ops/jobs/${encodeURIComponent(w.current_job_id)}/cancel`));
    } else cell(row, "");
  });

  const kafka = summary.kafka;
  if (kafka.available) {
    // Tansu neither lists nor describes groups: say so, with the workers' own heartbeats beside it,
    // instead of "members 0" while a worker consumes.
    const alive = summary.workers.filter((w) => !w.lost).length;
    const members = kafka.members === null
      ? `not reported by this broker (workers alive by heartbeat: ${alive})`
      : `${kafka.members.length} (${kafka.members.join(", ") || "none"})`;
    $("kafka-line").textContent =
      `Topic ${kafka.topic}, group ${kafka.group}: members ${members}, total lag ${kafka.total_lag}`;
  } else {
    $("kafka-line").textContent = `Kafka ${kafka.reason}`;
  }
  fill("partitions", kafka.partitions, (row, p) => {
    cell(row, p.partition); cell(row, p.committed); cell(row, p.end); cell(row, p.lag);
  });
  $("outbox-line").textContent =
    `Outbox backlog: ${summary.outbox_backlog} (oldest ${age(summary.outbox_oldest_age_seconds)}) · ` +
    `dead letters (7 days): ${summary.dead_letters}`;

  fill("failures", summary.failures, (row, f) => {
    cell(row, f.job_id); cell(row, f.stage); cell(row, f.attempts); cell(row, when(f.finished_at));
    cell(row, f.error, "error");
    button(row, "Retry", () => act(`/api/ops/jobs/${encodeURIComponent(f.job_id)}/retry`));
  });
  fill("actions", actions.actions, (row, a) => {
    cell(row, when(a.at)); cell(row, a.actor); cell(row, a.action); cell(row, a.job_id || a.worker_id);
    cell(row, a.detail);
  });
}

async function refresh() {
  clearTimeout(timer);
  if (!token()) return;
  try {
    const [summary, actions] = await Promise.all([api("/api/ops/summary"), api("/api/ops/actions?limit=20")]);
    draw(summary, actions);
    $("board").hidden = false;
    $("sign-in").hidden = true;
    $("status-line").textContent = `Updated ${when(summary.generated_at)}`;
  } catch (error) {
    say(error.message);
    if (error.status === 401 || error.status === 403) {
      sessionStorage.removeItem("geulssi-ops-token");
      $("sign-in").hidden = false;
      $("board").hidden = true;
      return;
    }
  }
  timer = setTimeout(refresh, REFRESH_MS);
}

function start() {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("token")) {
    sessionStorage.setItem("geulssi-ops-token", hash.get("token"));
    history.replaceState(null, "", location.pathname);
  }
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem("geulssi-ops-token", $("token").value.trim());
    sessionStorage.setItem("geulssi-ops-actor", $("actor").value.trim());
    say("");
    refresh();
  });
  $("pause-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const reason = $("pause-reason").value.trim();
    if (!reason) { say("Say why intake is paused."); return; }
    act("/api/ops/intake/pause", { reason });
  });
  $("resume-button").addEventListener("click", () => act("/api/ops/intake/resume"));
  $("cancel-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const job = $("cancel-job").value.trim();
    if (job) act(`/api/ops/jobs/${encodeURIComponent(job)}/cancel`);
  });
  $("sign-out").addEventListener("click", (event) => {
    event.preventDefault();
    sessionStorage.clear();
    location.reload();
  });
  refresh();
}

start();
