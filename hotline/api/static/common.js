// Shared by the desk and the wallboard: language, sign-in, authorised fetch, WebSocket.
"use strict";
const Hotline = (() => {
  let lang = localStorage.getItem("hotline.lang") || "zh";
  const dict = {};
  function t(key) { return (dict[lang] && dict[lang][key]) || key; }
  function words(zh, en) { Object.assign(dict, {zh: {...dict.zh, ...zh}, en: {...dict.en, ...en}}); }
  function translate() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-t]").forEach(el => { el.textContent = t(el.dataset.t); });
  }
  function toggle() {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem("hotline.lang", lang);
    translate();
    document.dispatchEvent(new Event("hotline:lang"));
  }
  const token = () => sessionStorage.getItem("hotline.token");
  const me = () => JSON.parse(sessionStorage.getItem("hotline.me") || "null");
  async function signIn(username, password) {
    const reply = await fetch("/api/auth/token", {method: "POST",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({username, password})});
    if (!reply.ok) throw new Error(t("wrong_login"));
    const body = await reply.json();
    sessionStorage.setItem("hotline.token", body.access_token);
    sessionStorage.setItem("hotline.me", JSON.stringify({name: username, role: body.role,
      seat: body.seat}));
    return body;
  }
  function signOut() { sessionStorage.clear(); location.reload(); }
  // A failed request: `status` (0 when the server could not be reached) and the server's
  // `detail` are for the page's own choice of words; `message` is already plain words.
  class ApiError extends Error {
    constructor(status, detail) {
      super("");
      this.name = "ApiError"; this.status = status; this.detail = detail;
      this.message = explain(this);
    }
  }
  const GENERIC = {0: "err_network", 400: "err_invalid", 403: "err_forbidden",
                   404: "err_not_found", 409: "err_conflict", 422: "err_invalid"};
  // Plain words for a failure, in the current language: `words` maps a status to the
  // page's own key (e.g. {409: "not_on_call"}); otherwise a general sentence. Never the
  // status code nor the server's (English, technical) detail.
  function problem(error, words = {}) {  // the key of those words
    const status = error && error.status !== undefined ? error.status : 0;
    return words[status] || GENERIC[status] || (status >= 500 ? "err_server" : "err_other");
  }
  const explain = (error, words = {}) => t(problem(error, words));
  async function api(method, path, body) {
    let reply;
    try {
      reply = await fetch(path, {method, headers: {"Authorization": "Bearer " + token(),
        "Content-Type": "application/json"}, body: body === undefined ? undefined : JSON.stringify(body)});
    } catch (e) { throw new ApiError(0, String(e)); }
    if (reply.status === 401) { signOut(); }
    if (!reply.ok) {
      let detail = reply.statusText;
      try { detail = (await reply.json()).detail; } catch (e) { /* not JSON */ }
      throw new ApiError(reply.status, detail);
    }
    return reply.headers.get("content-type")?.includes("json") ? reply.json() : reply.blob();
  }
  async function download(path, name) {
    const blob = await api("GET", path);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob); a.download = name; a.click();
  }
  function socket(path, onMessage) {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path +
      "?token=" + encodeURIComponent(token());
    const ws = new WebSocket(url);
    ws.onmessage = ev => onMessage(JSON.parse(ev.data));
    ws.onclose = ev => {
      if (ev.code === 4401) { signOut(); return; }
      setTimeout(() => socket(path, onMessage), 2000);
    };
    return ws;
  }
  const fmt = v => (v === null || v === undefined) ? "—" : v;
  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds));
    const m = Math.floor(s / 60);
    return m ? `${m}:${String(s % 60).padStart(2, "0")}` : `${s}s`;
  }
  words({wrong_login: "用户名或密码错误", sign_in: "登录", sign_out: "退出", user: "用户名",
         password: "密码", lang: "English",
         err_network: "无法连接服务器，请检查网络后重试。",
         err_invalid: "提交的内容有误，请检查后重试。",
         err_forbidden: "您没有权限进行此操作。",
         err_not_found: "找不到要操作的记录。",
         err_conflict: "当前状态下不能进行此操作。",
         err_server: "系统暂时不可用，请稍后重试。",
         err_other: "操作未成功，请稍后重试。"},
        {wrong_login: "wrong name or password", sign_in: "Sign in", sign_out: "Sign out",
         user: "User", password: "Password", lang: "中文",
         err_network: "The server cannot be reached: check the network and try again.",
         err_invalid: "Some of the entries are not valid: check them and try again.",
         err_forbidden: "You are not allowed to do this.",
         err_not_found: "The record was not found.",
         err_conflict: "This is not possible in the current state.",
         err_server: "The system is unavailable for the moment: try again shortly.",
         err_other: "That did not work: try again shortly."});
  return {t, words, translate, toggle, token, me, signIn, signOut, api, download, socket, fmt,
          duration, explain, problem, ApiError, lang: () => lang};
})();
