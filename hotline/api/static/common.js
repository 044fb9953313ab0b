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
    // data-tp: the placeholder of an input, in the page's language.
    document.querySelectorAll("[data-tp]").forEach(el => { el.placeholder = t(el.dataset.tp); });
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
  // A live socket that reconnects after 2 s when it drops; never when the server refused
  // the account (4401: signed out; 4403: the wrong role, `onRefused` says so).
  function socket(path, onMessage, onRefused) {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path +
      "?token=" + encodeURIComponent(token());
    const ws = new WebSocket(url);
    ws.onmessage = ev => onMessage(JSON.parse(ev.data));
    ws.onclose = ev => {
      if (ev.code === 4401) { signOut(); return; }
      if (ev.code === 4403) { if (onRefused) onRefused(); return; }
      setTimeout(() => socket(path, onMessage, onRefused), 2000);
    };
    return ws;
  }
  // Who is signed in (GET /api/auth/me), and whether this page is for them: `roles` the
  // page serves. Returns null when it is; otherwise shows `box` with plain words and a
  // link to the page that is (the desk for an agent, the wallboard for a supervisor).
  const PAGE_OF = {agent: "/desk", supervisor: "/wallboard"};
  async function checkRole(roles, box, needsSeat) {
    const who = await api("GET", "/api/auth/me");
    const allowed = roles.includes(who.role), seatless = allowed && needsSeat && !who.seat;
    if (allowed && !seatless) return null;
    const page = PAGE_OF[who.role];
    box.dataset.role = who.role;
    box.innerHTML = `<p id="wrong-role-text"></p>
      <p>${page ? `<a id="right-page" href="${page}"></a>` : ""}
      <button type="button" id="other-account"></button></p>`;
    const say = () => {
      box.querySelector("#wrong-role-text").textContent = seatless ? t("no_seat") :
        t("wrong_role_" + (location.pathname.includes("wallboard") ? "wallboard" : "desk"))
          .replace("{name}", who.name).replace("{role}", t("role_" + who.role));
      const link = box.querySelector("#right-page");
      if (link) link.textContent = t("go_" + who.role);
      box.querySelector("#other-account").textContent = t("other_account");
    };
    say();
    document.addEventListener("hotline:lang", say);
    box.querySelector("#other-account").onclick = signOut;
    box.hidden = false;
    return who;
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
         err_other: "操作未成功，请稍后重试。",
         role_agent: "座席", role_supervisor: "班长", role_admin: "管理员",
         wrong_role_desk: "{name} 是{role}账号：座席工作台只供座席使用，不能用此账号签入、接听或保存工单。",
         wrong_role_wallboard: "{name} 是{role}账号：监控大屏只供班长查看。",
         no_seat: "此账号没有绑定座席，不能使用座席工作台。请管理员用 hotline user add --seat 绑定座席。",
         go_agent: "前往座席工作台", go_supervisor: "前往监控大屏",
         other_account: "换一个账号登录"},
        {wrong_login: "wrong name or password", sign_in: "Sign in", sign_out: "Sign out",
         user: "User", password: "Password", lang: "中文",
         err_network: "The server cannot be reached: check the network and try again.",
         err_invalid: "Some of the entries are not valid: check them and try again.",
         err_forbidden: "You are not allowed to do this.",
         err_not_found: "The record was not found.",
         err_conflict: "This is not possible in the current state.",
         err_server: "The system is unavailable for the moment: try again shortly.",
         err_other: "That did not work: try again shortly.",
         role_agent: "an agent", role_supervisor: "a supervisor", role_admin: "an admin",
         wrong_role_desk: "{name} is {role} account: the agent desk is for agents only; this account cannot log a seat in, take calls or save tickets.",
         wrong_role_wallboard: "{name} is {role} account: the wallboard is for supervisors only.",
         no_seat: "This account has no seat, so it cannot use the agent desk. An administrator can link one (hotline user add --seat).",
         go_agent: "Go to the agent desk", go_supervisor: "Go to the wallboard",
         other_account: "Sign in with another account"});
  return {t, words, translate, toggle, token, me, signIn, signOut, api, download, socket, fmt,
          duration, explain, problem, ApiError, checkRole, lang: () => lang};
})();
