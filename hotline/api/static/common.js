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
  async function api(method, path, body) {
    const reply = await fetch(path, {method, headers: {"Authorization": "Bearer " + token(),
      "Content-Type": "application/json"}, body: body === undefined ? undefined : JSON.stringify(body)});
    if (reply.status === 401) { signOut(); }
    if (!reply.ok) {
      let detail = reply.statusText;
      try { detail = JSON.stringify((await reply.json()).detail); } catch (e) { /* text */ }
      throw new Error(reply.status + " " + detail);
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
         password: "密码", lang: "English"},
        {wrong_login: "wrong name or password", sign_in: "Sign in", sign_out: "Sign out",
         user: "User", password: "Password", lang: "中文"});
  return {t, words, translate, toggle, token, me, signIn, signOut, api, download, socket, fmt,
          duration, lang: () => lang};
})();
