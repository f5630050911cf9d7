// The geulssi page's behaviour: keeps the project (id + token) in localStorage and talks to the JSON API; every message
// appears at the control it concerns, in Korean and English.
"use strict";

const STORE_KEY = "geulssi.font";
const TITLE = document.title;
const $ = (id) => document.getElementById(id);
let project = null; // {id, token, name}
let status = null; // the last GET /api/fonts/{id}
let journey = null; // the last GET /api/fonts/{id}/journey
let pollTimer = null;
let loadedFontJob = null;
let fontFamily = null;
let lastJob = null; // {id, state}: to notice the moment a font is ready
let showAllWritten = false;
let shownPages = ""; // the page states the cards show now
let qrCode = null; // {font, url}: the continue link's QR code as a promised blob URL
const marked = new Set();

function saveProject(p) {
  project = p;
  if (p) localStorage.setItem(STORE_KEY, JSON.stringify(p));
  else localStorage.removeItem(STORE_KEY);
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (project) headers.Authorization = `Bearer ${project.token}`;
  let response;
  try {
    response = await fetch(path, Object.assign({}, options, { headers }));
  } catch (_) {
    const error = new Error("the server cannot be reached; check the connection and try again");
    error.status = 0;
    throw error;
  }
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    let body = null;
    try { body = await response.json(); detail = body.detail || detail; } catch (_) { /* not JSON */ }
    const error = new Error(typeof detail === "string" ? detail : JSON.stringify(detail));
    error.status = response.status;
    error.body = body;
    throw error;
  }
  return response;
}

async function blobUrl(path) {
  const response = await api(path);
  return URL.createObjectURL(await response.blob());
}

function showProject() {
  const has = Boolean(project);
  $("create-form").hidden = has;
  $("restore").hidden = has;
  $("project").hidden = !has;
  $("step-upload").hidden = !has;
  $("step-build").hidden = !has;
  if (has) {
    $("project-name").textContent = project.name || "";
    $("project-id").textContent = project.id;
    const link = `${location.origin}${location.pathname}#font=${project.id}&token=${project.token}`;
    $("continue-link").value = link;
    $("away-link").value = link;
  } else {
    $("step-font").hidden = true;
    $("pages").replaceChildren();
    shownPages = "";
    document.title = TITLE;
  }
}

// The continue link's QR code (it holds the token: made by the server for this caller, fetched once per project).
function showQr(id) {
  if (!qrCode || qrCode.font !== project.id) {
    qrCode = { font: project.id, url: blobUrl(`/api/fonts/${project.id}/link.svg`) };
    qrCode.url.catch(() => { qrCode = null; }); // asked again next time
  }
  const img = $(id);
  qrCode.url.then((u) => {
    img.hidden = false;
    if (img.src !== u) img.src = u;
  }).catch((error) => {
    if (id === "continue-qr") showError("project-error", "project", error);
    else img.hidden = true; // the wait box still has the link to copy
  });
}

async function refresh() {
  if (!project) return;
  clearTimeout(pollTimer);
  try {
    [status, journey] = await Promise.all([
      api(`/api/fonts/${project.id}`).then((r) => r.json()),
      api(`/api/fonts/${project.id}/journey`).then((r) => r.json()),
    ]);
  } catch (error) {
    if (error.status === 404 || error.status === 401) {
      saveProject(null);
      showProject();
      showError("create-error", "project", error);
      return;
    }
    showError("project-error", "project", error);
    pollTimer = setTimeout(refresh, 10000);
    return;
  }
  project.name = status.name;
  saveProject(project);
  showProject();
  const g = status.glyphs;
  $("glyph-counts").replaceChildren(...bilingual(`한글 ${g.hangul_ok} / ${g.hangul_required} · 영문 ${g.latin_ok} / ${g.latin_total}`,
    `Hangul ${g.hangul_ok} of ${g.hangul_required} · Latin ${g.latin_ok} of ${g.latin_total}`));
  const pagesKey = JSON.stringify(journey.pages);
  if (pagesKey !== shownPages) { // redraw the cards (and fetch their sheets) only when a page changed
    shownPages = pagesKey;
    $("pages").replaceChildren(...journey.pages.map(pageCard));
  }
  const active = jobActive();
  updateButtons();
  const left = g.hangul_required - g.hangul_ok;
  if (active) setStatus("submit-hint", "", "");
  else if (!status.ready_to_submit) {
    setStatus("submit-hint", `한글 ${g.hangul_required}칸이 모두 읽혀야 시작할 수 있습니다: ${left}칸 남음.`,
      `All ${g.hangul_required} Hangul cells must be readable first: ${left} to go.`);
  } else setStatus("submit-hint", "준비됐습니다.", "Ready to build.");
  renderJob(status.job, journey.wait);
  noticeReady(status.job);
  if (status.downloads) await showFont();
  else $("step-font").hidden = true;
  if (active) pollTimer = setTimeout(refresh, 2000);
}

function renderJob(job, wait) {
  $("job").hidden = !job;
  if (!job) return;
  const active = job.state === "queued" || job.state === "running";
  const fix = journey && journey.job_kind === "repackage";
  $("job-state").textContent = (fix ? "글자 고치기 · " : "") + (STATE_KO[job.state] || job.state);
  $("job-stage").textContent = job.stage ? `· ${STAGE_KO[job.stage] || job.stage}` : "";
  $("job-progress").value = job.progress;
  $("job-percent").textContent = `${job.progress.toFixed(0)}%`;
  $("job-away").hidden = !active;
  if (active) showQr("away-qr");
  if (active && wait) {
    const [ko, en] = minutes(wait.seconds_left);
    const basis = wait.measured ? ["최근 작업 시간으로 계산", "from recent builds' stage times"] : ["어림값", "a rough guess"];
    const queue = wait.state === "queued"
      ? [`대기 순서: 앞에 ${wait.ahead}개 · `, `Queue: ${wait.ahead} ahead · `] : ["", ""];
    $("job-wait").replaceChildren(...bilingual(`${queue[0]}약 ${ko} 남음 (${basis[0]})`, `${queue[1]}about ${en} left (${basis[1]})`));
    document.title = `(${job.progress.toFixed(0)}%) ${TITLE}`;
  } else $("job-wait").replaceChildren();
  $("job-timings").replaceChildren(...Object.entries(job.stage_timings || {}).map(([stage, seconds]) =>
    el("li", {}, `${STAGE_KO[stage] || stage}: ${minutes(seconds)[0]}`)));
  const box = $("job-error");
  if (job.state === "failed" || job.state === "cancelled") {
    const [ko, en] = job.state === "cancelled"
      ? ["이 작업은 취소되었습니다. 다시 만들려면 「폰트 만들기 시작」을 누르세요.",
        `${job.error || "the build was cancelled"}: press "Start building" to build again.`]
      : ["폰트를 만들지 못했습니다. 다시 해 보려면 「폰트 만들기 시작」을 누르세요.",
        `the font could not be built (${job.error || "no reason given"}): press "Start building" to try again.`];
    box.replaceChildren(...bilingual(ko, en));
    box.hidden = false;
    if (fix) showError("fix-error", "fix", new Error(job.error || job.state));
  } else { box.hidden = true; }
  if (fix && active) setStatus("fix-status", `다시 그리는 중… ${job.progress.toFixed(0)}%`, `redrawing… ${job.progress.toFixed(0)}%`);
  else if (fix && job.state === "succeeded") setStatus("fix-status", "다시 그려서 새 폰트에 넣었습니다.", "Redrawn; the font is updated.");
}

function noticeReady(job) {
  const was = lastJob;
  lastJob = job ? { id: job.id, state: job.state } : null;
  if (!job || !was || was.id !== job.id || was.state === job.state) return;
  if (was.state !== "queued" && was.state !== "running") return;
  if (job.state === "succeeded") {
    document.title = `✅ 완성 — ${TITLE}`;
    if ("Notification" in window && Notification.permission === "granted") {
      new Notification("글씨: 폰트가 완성됐습니다", { body: `${project.name} — your font is ready` });
    }
    $("step-font").scrollIntoView({ behavior: "smooth" });
  } else if (job.state === "failed" || job.state === "cancelled") {
    document.title = `⚠ ${STATE_KO[job.state]} — ${TITLE}`;
  }
}

function jobActive() {
  return Boolean(status && status.job && (status.job.state === "queued" || status.job.state === "running"));
}

// Buttons that must not be pressed are not: nothing to build yet, a job already running, nothing marked.
function updateButtons() {
  $("submit").disabled = !status || !status.ready_to_submit || jobActive();
  $("fix").disabled = !journey || !marked.size || jobActive() || !journey.can_fix;
}

function busy(button, promise) {
  button.disabled = true;
  return promise.finally(() => { button.disabled = false; updateButtons(); });
}

async function buildNow() {
  clearError("submit-error");
  $("coverage").hidden = true;
  try {
    await api(`/api/fonts/${project.id}/submit`, { method: "POST" });
    lastJob = null;
    await refresh();
  } catch (error) {
    const extra = error.body && error.body.missing ? missingList(error.body.missing) : null;
    showError("submit-error", "submit", error, extra);
  }
}

async function checkCoverage() {
  let report = null;
  try { report = await (await api(`/api/fonts/${project.id}/coverage`)).json(); } catch (_) { report = null; }
  if (!report || !report.available || !report.missing.length) return buildNow();
  const groups = new Map();
  for (const m of report.missing) {
    if (!groups.has(m.reason)) groups.set(m.reason, []);
    groups.get(m.reason).push(m.char);
  }
  $("coverage-list").replaceChildren(...[...groups.entries()].map(([reason, chars]) =>
    el("div", { className: "group" }, el("p", {}, `${reason} (${chars.length})`), el("p", { className: "chars" }, chars.join(" ")))));
  $("coverage").hidden = false;
  $("coverage").scrollIntoView({ block: "nearest" });
  return null;
}

function wire() {
  $("create-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearError("create-error");
    busy($("create-button"), (async () => {
      const name = $("font-name").value.trim();
      const created = await (await api("/api/fonts", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name }),
      })).json();
      saveProject({ id: created.id, token: created.token, name });
      $("token").textContent = created.token;
      $("token-box").hidden = false;
      await refresh();
    })().catch((error) => showError("create-error", "create", error)));
  });
  $("token-done").addEventListener("click", () => { $("token-box").hidden = true; });
  $("continue-box").addEventListener("toggle", () => {
    if ($("continue-box").open) showQr("continue-qr");
  });
  for (const [input, button] of [["continue-link", "copy-link"], ["away-link", "away-copy"]]) {
    $(button).addEventListener("click", () => {
      $(input).select();
      if (navigator.clipboard) navigator.clipboard.writeText($(input).value).catch(() => {});
    });
  }
  $("restore-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearError("restore-error");
    saveProject({ id: $("restore-id").value.trim(), token: $("restore-token").value.trim(), name: "" });
    refresh();
  });
  $("forget").addEventListener("click", () => {
    if (!confirm("이 브라우저에서 프로젝트를 잊을까요? 토큰이 없으면 다시 열 수 없습니다.\nForget this project here?")) return;
    saveProject(null);
    showProject();
  });
  $("delete").addEventListener("click", () => {
    if (!confirm("프로젝트와 사진, 폰트를 모두 삭제할까요?\nDelete the project, its photos and font?")) return;
    api(`/api/fonts/${project.id}`, { method: "DELETE" })
      .then(() => { saveProject(null); showProject(); })
      .catch((error) => showError("project-error", "project", error));
  });
  for (const id of ["camera", "photos"]) {
    $(id).addEventListener("change", () => {
      if ($(id).files.length) upload($(id).files, $(id), "upload-error", "upload-status");
    });
  }
  $("submit").addEventListener("click", () => {
    clearError("submit-error");
    if (status && status.downloads) { $("confirm-rebuild").hidden = false; return; }
    busy($("submit"), checkCoverage());
  });
  $("rebuild-no").addEventListener("click", () => { $("confirm-rebuild").hidden = true; });
  $("rebuild-yes").addEventListener("click", () => {
    $("confirm-rebuild").hidden = true;
    busy($("submit"), checkCoverage());
  });
  $("coverage-go").addEventListener("click", () => busy($("coverage-go"), buildNow()));
  $("coverage-rewrite").addEventListener("click", () => {
    $("coverage").hidden = true;
    $("step-upload").scrollIntoView({ behavior: "smooth" });
  });
  $("notify").addEventListener("click", () => {
    if (!("Notification" in window)) {
      setStatus("submit-hint", "이 브라우저는 알림을 지원하지 않습니다. 탭 제목에 표시됩니다.", "No notifications here; the tab title will say it.");
      return;
    }
    Notification.requestPermission().then((p) => {
      $("notify").textContent = p === "granted" ? "알림을 켰습니다 (notifications on)" : "알림이 막혀 있습니다: 탭 제목을 보세요 (blocked: watch the tab title)";
    });
  });
  wireFix();
  $("zoom").addEventListener("click", () => { $("zoom").hidden = true; });
}

function start() {
  wire();
  // "#font=ID&token=TOKEN" opens a project on another device; the token leaves the address bar at once.
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("font") && hash.get("token")) {
    saveProject({ id: hash.get("font"), token: hash.get("token"), name: "" });
    history.replaceState(null, "", location.pathname);
  } else {
    try { project = JSON.parse(localStorage.getItem(STORE_KEY)); } catch (_) { project = null; }
  }
  showProject();
  refresh();
}

document.addEventListener("DOMContentLoaded", start);
