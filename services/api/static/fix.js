// The finished font on the page: the live sample, the sheet of written beside generated syllables,
// marking generated ones as wrong and re-packaging, downloads and install help.
"use strict";

// Frequent syllables that are not on the template: the generated half of the check sheet.
const COMMON = "것들있없었했겠였됩됐봤왔줬갔났닭읽밟값넓삶앉많않괜찮꽃빛밖볶웃섞읊흙젊늙짧얇숨쉽춥덥뜻뭘왜넷곱쌍쫓뽑찢뚫"
  + "했던됐던싶네랑께든뭐얘걔쟤뿐씩쯤냥땐쨌녕헐젠꿈꾼빵팥떡곰탕볶밥찌개냉면짬뽕";

async function showFont() {
  $("step-font").hidden = false;
  renderSheets();
  // the font shown stays until a newer one is ready (a running fix has not replaced it yet)
  if (jobActive() && loadedFontJob !== null) return;
  const jobId = status.job ? status.job.id : "";
  const key = jobActive() ? `before ${jobId}` : jobId;
  if (loadedFontJob === key) return;
  loadedFontJob = key;
  try {
    const data = await (await api(status.downloads.woff2)).arrayBuffer();
    const family = `geulssi-mine-${jobId || "font"}`;
    const face = new FontFace(family, data);
    await face.load();
    document.fonts.add(face);
    fontFamily = family;
    $("sample").style.fontFamily = `'${family}', sans-serif`;
    renderSheets();
  } catch (error) {
    showError("download-error", "download", error);
  }
  const name = (project.name || "MyHand").replace(/["\\]/g, "");
  $("css-snippet").textContent = `@font-face {\n  font-family: "${name}";\n  src: url("/fonts/my-handwriting.woff2") format("woff2");\n`
    + `  font-display: swap;\n}\nbody { font-family: "${name}", sans-serif; }`;
  blobUrl(status.downloads.preview).then((u) => { $("preview").src = u; }).catch(() => {});
}

function syllableCell(cp, generated) {
  const ch = String.fromCodePoint(cp);
  const cell = el("button", { type: "button", className: "syllable", textContent: ch, title: `U+${cp.toString(16).toUpperCase()}` });
  if (fontFamily) cell.style.fontFamily = `'${fontFamily}', sans-serif`;
  if (generated) {
    cell.classList.toggle("marked", marked.has(cp));
    cell.setAttribute("aria-pressed", marked.has(cp) ? "true" : "false");
    cell.addEventListener("click", () => {
      if (marked.has(cp)) marked.delete(cp); else marked.add(cp);
      renderSheets();
    });
  } else cell.disabled = true;
  return cell;
}

function generatedSample() {
  const written = new Set(journey.written);
  const seen = new Set();
  const out = [];
  for (const ch of $("sample").value + COMMON) {
    const cp = ch.codePointAt(0);
    if (cp >= 0xac00 && cp <= 0xd7a3 && !written.has(cp) && !seen.has(cp)) { seen.add(cp); out.push(cp); }
  }
  for (const cp of marked) if (!seen.has(cp)) out.push(cp);
  return out.slice(0, 48 + marked.size);
}

function renderSheets() {
  if (!journey || $("step-font").hidden) return;
  const written = showAllWritten ? journey.written : journey.written.slice(0, 24);
  const more = journey.written.length > written.length
    ? el("button", { type: "button", className: "quiet small-button", textContent: `모두 보기 show all ${journey.written.length}` }) : null;
  if (more) more.addEventListener("click", () => { showAllWritten = true; renderSheets(); });
  const none = journey.written.length ? null : el("p", { className: "hint" }, ...bilingual("아직 없습니다.", "None yet."));
  $("sheet-written").replaceChildren(...written.map((cp) => syllableCell(cp, false)), ...[more, none].filter(Boolean));
  $("sheet-generated").replaceChildren(...generatedSample().map((cp) => syllableCell(cp, true)));
  const list = [...marked].map((cp) => String.fromCodePoint(cp)).join(" ");
  $("marked-line").replaceChildren(...(marked.size
    ? bilingual(`표시한 글자 ${marked.size}자: ${list}`, `${marked.size} marked`) : []));
  updateButtons();
  if (!journey.can_fix && !jobActive()) {
    setStatus("fix-status", "이 폰트는 고치기 기능 전에 만들어졌습니다. 새로 만들면 고칠 수 있습니다.",
      "This font was built before fixes were possible; build it again to fix syllables.");
  }
}

async function download(kind) {
  clearError("download-error");
  const response = await api(`/api/fonts/${project.id}/font.${kind}`);
  const link = el("a", { href: URL.createObjectURL(await response.blob()), download: `${project.name || "geulssi"}.${kind}` });
  document.body.append(link);
  link.click();
  link.remove();
}

function wireFix() {
  $("sample").addEventListener("input", () => renderSheets());
  $("mark-form").addEventListener("submit", (event) => {
    event.preventDefault();
    clearError("fix-error");
    const written = new Set(journey ? journey.written : []);
    const own = [];
    for (const ch of $("mark-text").value) {
      const cp = ch.codePointAt(0);
      if (cp < 0xac00 || cp > 0xd7a3) continue;
      if (written.has(cp)) own.push(ch); else marked.add(cp);
    }
    if (own.length) {
      showError("fix-error", "fix", new Error(`${own.join(" ")}: written in your own hand; to change it, write it again and upload that page`));
    }
    $("mark-text").value = "";
    renderSheets();
  });
  $("fix").addEventListener("click", () => {
    clearError("fix-error");
    setStatus("fix-status", "", ""); // what an earlier fix said is no longer news
    const codepoints = [...marked];
    busy($("fix"), (async () => {
      await api(`/api/fonts/${project.id}/fix`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ codepoints }),
      });
      marked.clear();
      setStatus("fix-status", "다시 그리기를 시작했습니다. 1분쯤 걸립니다.", "Redrawing started; about a minute.");
      lastJob = null;
      await refresh();
    })().catch((error) => showError("fix-error", "fix", error)));
  });
  $("download-ttf").addEventListener("click", () => download("ttf").catch((e) => showError("download-error", "download", e)));
  $("download-woff2").addEventListener("click", () => download("woff2").catch((e) => showError("download-error", "download", e)));
}
