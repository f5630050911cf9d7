// The geulssi page's behaviour: keeps the project (id + token) in localStorage and talks to the JSON API.
"use strict";

const STORE_KEY = "geulssi.font";
const STATUS_KO = {
  ok: "읽음", empty: "빈 칸", faint: "너무 흐림", overflow: "칸 밖으로 나감", smudged: "번짐·가려짐",
  outside: "사진 밖", missing: "사진 없음", "not uploaded": "아직 안 올림",
};
const STAGE_KO = {
  finetune: "손글씨 학습 (fine-tune)", generate: "11,172자 생성 (generate)", trace: "윤곽 그리기 (trace)",
  normalize: "다듬기 (normalize)", package: "폰트 파일 만들기 (package)",
};
const STATE_KO = {
  queued: "대기 중 (queued)", running: "만드는 중 (running)", succeeded: "완성 (done)",
  failed: "실패 (failed)", cancelled: "취소됨 (cancelled)",
};

const $ = (id) => document.getElementById(id);
let project = null; // {id, token, name}
let pollTimer = null;
let loadedFontJob = null;

function say(text, isError = false) {
  $("message").textContent = text;
  $("message").className = isError ? "error" : "";
}

function saveProject(p) {
  project = p;
  if (p) localStorage.setItem(STORE_KEY, JSON.stringify(p));
  else localStorage.removeItem(STORE_KEY);
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (project) headers.Authorization = `Bearer ${project.token}`;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    let body = null;
    try { body = await response.json(); detail = body.detail || detail; } catch (_) { /* not JSON */ }
    const error = new Error(detail);
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

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) node.append(child);
  return node;
}

function cellList(cells) {
  return el("ul", { className: "cells" }, ...cells.map((c) =>
    el("li", { title: c.reason || "" }, el("b", {}, c.char), `${c.page}쪽 · ${STATUS_KO[c.status] || c.status}`)));
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
  } else {
    $("step-font").hidden = true;
    $("pages").replaceChildren();
  }
}

async function renderPage(page) {
  const box = el("div", { className: "page-report" },
    el("h3", {}, `${page.page}쪽 / page ${page.page}: ${page.cells_ok} / ${page.cells_total} 읽음`));
  if (page.to_rewrite && page.to_rewrite.length) {
    box.append(el("p", {}, "다시 써서 이 쪽을 다시 찍어 올려 주세요 (write these again and re-upload the page):"),
      cellList(page.to_rewrite));
  }
  const img = el("img", { alt: `page ${page.page} contact sheet` });
  box.append(img);
  blobUrl(page.sheet_url).then((u) => { img.src = u; }).catch(() => { img.alt = "contact sheet unavailable"; });
  return box;
}

async function refresh() {
  if (!project) return;
  let status;
  try {
    status = await (await api(`/api/fonts/${project.id}`)).json();
  } catch (error) {
    if (error.status === 404 || error.status === 401) {
      say("이 프로젝트를 찾을 수 없습니다 (project not found): 이 브라우저에서 잊었습니다.", true);
      saveProject(null);
      showProject();
      return;
    }
    say(error.message, true);
    return;
  }
  project.name = status.name;
  saveProject(project);
  showProject();
  const g = status.glyphs;
  $("glyph-counts").textContent =
    `한글 ${g.hangul_ok} / ${g.hangul_required} · 영문 ${g.latin_ok} / ${g.latin_total}` +
    ` (올린 쪽 pages: ${status.pages.map((p) => p.page).join(", ") || "-"} / ${status.template_pages})`;
  if (!$("pages").dataset.filled && status.pages.length) {
    $("pages").replaceChildren(...await Promise.all(status.pages.map((p) => renderPage(
      Object.assign({}, p, { to_rewrite: [] })))));
  }
  renderJob(status.job);
  if (status.downloads) await showFont(status);
  const active = status.job && (status.job.state === "queued" || status.job.state === "running");
  clearTimeout(pollTimer);
  if (active) pollTimer = setTimeout(refresh, 2000);
}

function renderJob(job) {
  $("job").hidden = !job;
  if (!job) return;
  $("job-state").textContent = STATE_KO[job.state] || job.state;
  $("job-stage").textContent = job.stage ? `· ${STAGE_KO[job.stage] || job.stage}` : "";
  $("job-progress").value = job.progress;
  $("job-percent").textContent = `${job.progress.toFixed(0)}%`;
  $("job-timings").replaceChildren(...Object.entries(job.stage_timings || {}).map(([stage, seconds]) =>
    el("li", {}, `${STAGE_KO[stage] || stage}: ${seconds < 90 ? seconds.toFixed(0) + "초" : (seconds / 60).toFixed(1) + "분"}`)));
  $("job-error").hidden = !job.error || job.state === "succeeded";
  $("job-error").textContent = job.error ? `오류 (error): ${job.error}` : "";
  $("submit").disabled = job.state === "queued" || job.state === "running";
}

async function showFont(status) {
  $("step-font").hidden = false;
  const jobId = status.job ? status.job.id : "";
  if (loadedFontJob === jobId) return;
  loadedFontJob = jobId;
  try {
    const data = await (await api(status.downloads.woff2)).arrayBuffer();
    const face = new FontFace("geulssi-mine", data);
    await face.load();
    document.fonts.add(face);
    $("sample").style.fontFamily = "'geulssi-mine', sans-serif";
  } catch (error) {
    say(`미리 보기 폰트를 불러오지 못했습니다 (could not load the font preview): ${error.message}`, true);
  }
  blobUrl(status.downloads.preview).then((u) => { $("preview").src = u; }).catch(() => {});
}

async function download(kind) {
  const response = await api(`/api/fonts/${project.id}/font.${kind}`);
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `${project.name || "geulssi"}.${kind}` });
  document.body.append(link);
  link.click();
  link.remove();
}

function busy(button, promise) {
  button.disabled = true;
  return promise.finally(() => { button.disabled = false; });
}

function wire() {
  $("create-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const button = event.submitter || $("create-form").querySelector("button");
    busy(button, (async () => {
      const name = $("font-name").value.trim();
      const created = await (await api("/api/fonts", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name }),
      })).json();
      saveProject({ id: created.id, token: created.token, name });
      $("token").textContent = created.token;
      $("token-box").hidden = false;
      say("프로젝트를 만들었습니다 (project created).");
      await refresh();
    })().catch((error) => say(error.message, true)));
  });
  $("token-done").addEventListener("click", () => { $("token-box").hidden = true; });
  $("restore-form").addEventListener("submit", (event) => {
    event.preventDefault();
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
      .then(() => { saveProject(null); showProject(); say("삭제했습니다 (deleted)."); })
      .catch((error) => say(error.message, true));
  });
  $("upload-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const files = $("photos").files;
    if (!files.length) return;
    const form = new FormData();
    for (const file of files) form.append("photos", file, file.name);
    say(`사진 ${files.length}장을 읽는 중… (reading ${files.length} photo(s)…)`);
    busy(event.submitter || $("upload-form").querySelector("button"), (async () => {
      const result = await (await api(`/api/fonts/${project.id}/pages`, { method: "POST", body: form })).json();
      $("pages").dataset.filled = "1";
      $("pages").replaceChildren(...await Promise.all(result.pages.map(renderPage)));
      say("읽었습니다 (photos read).");
      $("photos").value = "";
      await refresh();
    })().catch((error) => say(error.message, true)));
  });
  $("submit").addEventListener("click", () => {
    $("missing").hidden = true;
    busy($("submit"), (async () => {
      await api(`/api/fonts/${project.id}/submit`, { method: "POST" });
      say("폰트를 만들기 시작했습니다. 몇 분 걸립니다 (building; this takes a few minutes).");
      await refresh();
    })().catch((error) => {
      say(error.message, true);
      if (error.body && error.body.missing) {
        $("missing").replaceChildren(el("p", {}, "아직 쓸 수 없는 칸 (cells not usable yet):"), cellList(error.body.missing));
        $("missing").hidden = false;
      }
    }));
  });
  $("download-ttf").addEventListener("click", () => download("ttf").catch((e) => say(e.message, true)));
  $("download-woff2").addEventListener("click", () => download("woff2").catch((e) => say(e.message, true)));
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
