// The template pages on the web page: one card per page with its latest state (from the server), its
// contact sheet (tap to zoom), and camera / file buttons whose errors appear inside the card.
"use strict";

// What the file pickers offer: the photo formats the server reads (HEIC from iPhones) and PDF scans.
const FILE_TYPES = "image/jpeg,image/png,image/heic,image/heif,.heic,.heif,application/pdf,.pdf";

function fileButton(labelKo, labelEn, camera, onFiles, quiet = true) {
  const input = el("input", { type: "file", accept: camera ? "image/*" : FILE_TYPES });
  if (camera) input.setAttribute("capture", "environment");
  input.addEventListener("change", () => { if (input.files.length) onFiles(input.files, input); });
  return el("label", { className: `button file-button${quiet ? " quiet" : ""}` }, `${labelKo} `,
    el("span", { className: "en" }, labelEn), input);
}

// The writing line on the Latin page: the font takes the writer's spacing from it.
const LINE_STATES = {
  written: { ok: true, ko: "이어 쓴 줄을 읽었습니다: 글자 사이 간격을 손글씨대로 맞춥니다.",
    en: "Writing line read: the font will space syllables as you do." },
  empty: { ok: false, ko: "이어 쓰는 줄이 비어 있습니다: 문구를 평소처럼 써 주시면 간격도 손글씨대로 맞춥니다 (없으면 보통 간격).",
    en: "The writing line is empty: write the phrase as you normally do so the font spaces like your hand (otherwise typical spacing)." },
  "out of frame": { ok: false, ko: "이어 쓰는 줄이 사진 밖에 있습니다: 쪽 전체가 나오게 다시 찍어 주세요.",
    en: "The writing line is outside the photo: retake the whole page to have your spacing measured." },
};

function pageCard(p) {
  const scriptKo = p.script === "latin" ? "영문 (선택)" : "한글";
  const scriptEn = p.script === "latin" ? "Latin, optional" : "Hangul";
  const card = el("div", { className: `page-card ${p.uploaded ? (p.to_rewrite.length ? "rewrite" : "done") : "absent"}`,
    id: `page-card-${p.page}` });
  card.append(el("h3", {}, `${p.page}쪽 · ${scriptKo} `, el("span", { className: "en" }, `page ${p.page} · ${scriptEn}`)));
  if (!p.uploaded) {
    card.append(el("p", { className: "page-state" }, ...bilingual("아직 올리지 않았습니다.", "Not uploaded yet.")));
  } else {
    card.append(el("p", { className: "page-state" },
      ...bilingual(`${p.cells_ok} / ${p.cells_total}칸 읽음`, `${p.cells_ok} of ${p.cells_total} cells read · ${p.photo}`)));
    if (p.to_rewrite.length) {
      card.append(el("p", {}, ...bilingual("이 칸들을 다시 써서 이 쪽을 다시 찍어 주세요:", "Write these again and retake this page:")),
        cellGroups(p.to_rewrite));
    }
    const line = LINE_STATES[p.writing_line];
    if (line) card.append(el("p", { className: line.ok ? "hint" : "page-advice" }, ...bilingual(line.ko, line.en)));
    const img = el("img", { className: "sheet", alt: `page ${p.page} contact sheet` });
    img.addEventListener("click", (event) => zoom(img, event));
    blobUrl(p.sheet_url).then((u) => { img.src = u; }).catch(() => { img.alt = "contact sheet unavailable"; });
    card.append(el("p", { className: "hint" }, ...bilingual("칸을 누르면 크게 보입니다.", "Tap the sheet to zoom.")), img);
  }
  const errorId = `page-error-${p.page}`;
  const statusId = `page-status-${p.page}`;
  card.append(el("div", { className: "row" },
    fileButton(p.uploaded ? "다시 찍기" : "이 쪽 찍기", p.uploaded ? "Retake" : "Camera", true,
      (files, input) => upload(files, input, errorId, statusId)),
    fileButton("파일", "File", false, (files, input) => upload(files, input, errorId, statusId))));
  card.append(el("p", { className: "field-status", id: statusId, role: "status" }),
    el("p", { className: "field-error", id: errorId, role: "alert", hidden: true }));
  return card;
}

function zoom(img, event) {
  if (!img.naturalWidth) return;
  const rect = img.getBoundingClientRect();
  const nx = (event.clientX - rect.left) * img.naturalWidth / rect.width;
  const ny = (event.clientY - rect.top) * img.naturalHeight / rect.height;
  const view = $("zoom-view");
  $("zoom").hidden = false;
  const w = view.clientWidth; const h = view.clientHeight;
  view.style.backgroundImage = `url(${img.src})`;
  view.style.backgroundSize = `${img.naturalWidth}px ${img.naturalHeight}px`;
  view.style.backgroundPosition = `${Math.min(0, w / 2 - nx)}px ${Math.min(0, h / 2 - ny)}px`;
}

async function upload(files, input, errorId, statusId) {
  clearError(errorId);
  const form = new FormData();
  for (const file of files) form.append("photos", file, file.name);
  setStatus(statusId, `사진 ${files.length}장을 읽는 중…`, `reading ${files.length} photo(s)…`);
  try {
    const result = await (await api(`/api/fonts/${project.id}/pages`, { method: "POST", body: form })).json();
    const read = result.pages.map((p) => `${p.page}쪽`).join(", ");
    await refresh();
    // the card was redrawn: say what happened in the new one (or under the top controls)
    const target = $(statusId) ? statusId : "upload-status";
    setStatus(target, `읽었습니다: ${read}.`, `Read: page ${result.pages.map((p) => p.page).join(", ")}.`);
  } catch (error) {
    setStatus(statusId, "", "");
    showError(errorId, "upload", error);
  } finally {
    if (input) input.value = "";
  }
}
