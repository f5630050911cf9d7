// The geulssi page's words: status names, and every message in Korean and English at its control.
"use strict";

const STATUS_KO = {
  ok: "읽음", empty: "빈 칸", faint: "너무 흐림", overflow: "칸 밖으로 나감", smudged: "번짐·가려짐",
  outside: "사진 밖", glare: "빛 반사", missing: "사진에 없음", "not uploaded": "아직 안 올림",
};
const STAGE_KO = {
  finetune: "손글씨 학습 (fine-tune)", generate: "11,172자 생성 (generate)", trace: "윤곽 그리기 (trace)",
  normalize: "다듬기 (normalize)", package: "폰트 파일 만들기 (package)", redraw: "다시 그리기 (redraw)",
};
const STATE_KO = {
  queued: "대기 중 (queued)", running: "만드는 중 (running)", succeeded: "완성 (done)",
  failed: "실패 (failed)", cancelled: "취소됨 (cancelled)",
};

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function bilingual(ko, en) {
  return [document.createTextNode(ko + " "), el("span", { className: "en" }, en)];
}

// --- messages at the control they concern, in Korean and English
function explain(context, error) {
  const d = error.message || "";
  const s = error.status;
  if (s === 0) return "서버에 연결할 수 없습니다. 인터넷 연결을 확인하고 다시 해 주세요.";
  if (s === 401 || (s === 404 && /no font with this id/.test(d))) {
    return "이 프로젝트를 찾을 수 없습니다. 주소나 토큰을 확인해 주세요.";
  }
  if (s === 503 && /paused/.test(d)) return "지금은 새 폰트 만들기를 잠시 멈췄습니다. 올린 사진은 그대로 있으니 몇 분 뒤에 다시 눌러 주세요.";
  if (s === 503 || s === 507) return "서버가 잠시 바쁩니다. 잠시 뒤에 다시 해 주세요.";
  if (context === "upload") {
    if (/both show page/.test(d)) return "같은 쪽을 찍은 사진이 두 장입니다. 쪽마다 한 장씩 올려 주세요.";
    if (/nothing is written/.test(d)) return "이 쪽에는 아직 쓴 글자가 없습니다. 칸을 채운 뒤 다시 찍어 주세요.";
    if (s === 415) return "JPEG·PNG·HEIC 사진이나 PDF 스캔만 받습니다. 사진을 이 형식으로 저장해서 올려 주세요.";
    if (/not a readable image/.test(d)) return "사진 파일을 열 수 없습니다. 다시 찍거나 JPEG로 저장해서 올려 주세요.";
    if (s === 413) return "사진이 너무 큽니다. 한 번에 더 적게, 또는 더 작게 올려 주세요.";
    if (/empty/.test(d)) return "빈 파일입니다. 사진을 다시 골라 주세요.";
    return "사진에서 템플릿 쪽을 찾지 못했습니다. 종이 전체와 네 모서리의 네모 표시가 보이게 위에서 다시 찍어 주세요.";
  }
  if (context === "submit" && s === 409) return missingAdvice((error.body && error.body.missing) || []);
  if (context === "fix") {
    if (/own hand/.test(d)) return "직접 쓴 글자는 다시 그리지 않습니다. 바꾸려면 그 칸을 다시 써서 그 쪽을 다시 올려 주세요.";
    if (/still running/.test(d)) return "아직 만드는 중입니다. 끝난 뒤에 다시 눌러 주세요.";
    if (/before fixes were possible/.test(d)) return "이 폰트는 고치기 기능 전에 만들어졌습니다. 폰트를 새로 만들어 주세요.";
    if (/only Hangul/.test(d)) return "한글 음절만 다시 그릴 수 있습니다.";
  }
  if (context === "create" && s === 422) return "폰트 이름을 확인해 주세요 (1–63자, 줄바꿈 없이).";
  if (context === "download") return "폰트 파일을 받지 못했습니다.";
  return "요청이 받아들여지지 않았습니다.";
}

// A refused submit, said by what to do: pages never uploaded are to be uploaded, unusable cells written again.
function missingAdvice(missing) {
  const absent = pagesOf(missing.filter((c) => c.status === "not uploaded"));
  const rejected = missing.filter((c) => c.status !== "not uploaded");
  const advice = [];
  if (absent.length) advice.push(`${absent.join(", ")}쪽을 아직 올리지 않았습니다. ${absent.join(", ")}쪽 사진을 올려 주세요.`);
  if (rejected.length) {
    advice.push(`${pagesOf(rejected).join(", ")}쪽의 ${rejected.length}칸은 아직 쓸 수 없습니다. 아래 칸을 다시 써서 그 쪽을 다시 찍어 올려 주세요.`);
  }
  return advice.length ? advice.join(" ") : "아직 쓸 수 없는 칸이 있습니다.";
}

function pagesOf(cells) {
  return [...new Set(cells.map((c) => c.page))].sort((a, b) => a - b);
}

// Under a refused submit: one line per page never uploaded (a link to its card), the unusable cells as chips.
function missingList(missing) {
  const absent = pagesOf(missing.filter((c) => c.status === "not uploaded")).map((page) => {
    const count = missing.filter((c) => c.page === page).length;
    return el("li", {}, el("a", { href: `#page-card-${page}` }, `${page}쪽 사진 올리기`), ` · ${count}칸 `,
      el("span", { className: "en" }, `page ${page}: not uploaded yet (${count} cells)`));
  });
  const rejected = missing.filter((c) => c.status !== "not uploaded");
  return el("div", { className: "missing" }, absent.length ? el("ul", { className: "absent-pages" }, ...absent) : null,
    rejected.length ? cellGroups(rejected) : null);
}

function showError(id, context, error, extra = null) {
  const box = $(id);
  box.replaceChildren(...bilingual(explain(context, error), error.message), ...(extra ? [extra] : []));
  box.hidden = false;
}

function clearError(id) {
  $(id).hidden = true;
  $(id).replaceChildren();
}

function setStatus(id, ko, en) {
  $(id).replaceChildren(...(ko ? bilingual(ko, en) : []));
}

function minutes(seconds) {
  if (seconds < 90) return [`${Math.max(Math.round(seconds), 1)}초`, `${Math.max(Math.round(seconds), 1)} s`];
  const m = Math.round(seconds / 60);
  return [`${m}분`, `${m} min`];
}

// --- cells to write again: grouped by why, chips small, the reason always visible (no hover needed)
function cellGroups(cells) {
  const groups = new Map();
  for (const c of cells) {
    if (!groups.has(c.status)) groups.set(c.status, []);
    groups.get(c.status).push(c);
  }
  return el("div", { className: "cell-groups" }, ...[...groups.entries()].map(([status_, list]) => el("div", { className: "group" },
    el("p", {}, el("b", {}, `${STATUS_KO[status_] || status_} · ${list.length}`), " ",
      el("span", { className: "en" }, list[0].reason || status_)),
    el("ul", { className: "cells" }, ...list.map((c) => el("li", { title: c.reason || "" }, c.char))))));
}
