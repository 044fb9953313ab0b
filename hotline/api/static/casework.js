// Shared by the casework pages (the units' inbox, the dispatch desk): times in Jinan, the
// time left, a ticket's flags, and messages that keep their key (or the server's words) so
// that the language switch redraws them. Needs common.js.
"use strict";
const esc = s => String(s ?? "").replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
const en = () => Hotline.lang() === "en";
const SHANGHAI = {timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
                  hour: "2-digit", minute: "2-digit", hour12: false};
function when(iso) {
  if (!iso) return "—";
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-GB", SHANGHAI)
    .formatToParts(new Date(iso)).map(p => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}
function remaining(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds <= 0) return Hotline.t("past_due");
  const d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600);
  return `${Hotline.t("left")} ${d ? d + Hotline.t("days") + " " : ""}${h}${Hotline.t("hours")}`;
}
function flags(item) {
  return ["overdue", "due_soon", "supervised", "confidential"].filter(f => item[f])
    .map(f => `<span class="flag flag-${f}" data-flag="${f}">${esc(Hotline.t("flag_" + f))}</span>`).join("");
}
// A message kept by its key or the server's words, so that the language switch redraws it.
function say(el, key, ok) { el.dataset.key = key || ""; el.dataset.detail = ""; el.dataset.ok = ok ? "1" : ""; sayAgain(el); }
// The API's refusals are "中文 (English)": the part in the page's language.
function serverWords(detail) {
  const m = /^([\s\S]*?)\s*\(([^()]*)\)\s*$/.exec(detail);
  return m ? (en() ? m[2] : m[1]) : detail;
}
function sayError(el, error) {
  el.dataset.status = String(error.status ?? "");
  if (typeof error.detail === "string" && error.detail && [403, 404, 409, 422].includes(error.status)) {
    el.dataset.key = ""; el.dataset.detail = error.detail; el.dataset.ok = "";
  } else { el.dataset.key = Hotline.problem(error); el.dataset.detail = ""; el.dataset.ok = ""; }
  sayAgain(el);
}
function sayAgain(el) {
  const text = el.dataset.detail ? serverWords(el.dataset.detail) : (el.dataset.key ? Hotline.t(el.dataset.key) : "");
  el.textContent = text;
  el.className = el.dataset.ok ? "ok" : (text ? "bad" : "");
}
