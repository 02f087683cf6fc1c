// Check-in at the door when the venue's network drops (issue #14).
//
// Online, the page registers the check-in service worker (so the page and its scripts open
// without network), puts the page and its static files in the cache, and downloads the event's
// public keys and confirmed registrations (id and masked name only) into localStorage.
// Offline, a submitted code is verified here: the Ed25519 signature with WebCrypto against the
// downloaded keys, the event, the registration list and this phone's queue; an accepted code
// is queued in localStorage and shown as "已签到（离线，待同步）". Back online, the queue is
// sent to the sync endpoint, which verifies every code again and records each check-in once
// with its offline time; the answer (recorded / already / refused, in Chinese) is shown and
// the queue emptied. Online, the code is posted to the server as the form always sent it
// (in the background, the answer shown in place); a post that cannot reach the server falls
// back to the check on the phone.
(function () {
  "use strict";
  var box = document.querySelector("[data-offline]");
  var form = document.querySelector("form[data-checkin]");
  if (!box || !form) return;
  var eventId = Number(box.getAttribute("data-event-id"));
  var dataUrl = box.getAttribute("data-data-url");
  var syncUrl = box.getAttribute("data-sync-url");
  var swUrl = box.getAttribute("data-sw-url");
  var field = form.querySelector("input[name=code]");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]");
  var statusLine = box.querySelector("[data-offline-status]");
  var pendingLine = box.querySelector("[data-offline-pending]");
  var okBox = box.querySelector("[data-offline-result]");
  var errorBox = box.querySelector("[data-offline-error]");
  var syncBox = box.querySelector("[data-offline-sync]");
  var DATA_KEY = "qh-checkin-data:" + eventId;
  var QUEUE_KEY = "qh-checkin-queue:" + eventId;
  var CACHE = "qinghe-checkin-v1";
  var PREFIX = "QHE2:";
  var syncing = false;

  var hasWebCrypto = !!(window.crypto && window.crypto.subtle && window.isSecureContext);

  function read(key, fallback) {
    try {
      var text = window.localStorage.getItem(key);
      return text ? JSON.parse(text) : fallback;
    } catch (e) {
      return fallback;
    }
  }
  function write(key, value) { window.localStorage.setItem(key, JSON.stringify(value)); }
  function queue() { return read(QUEUE_KEY, []); }

  function show(el, text) {
    [okBox, errorBox].forEach(function (other) { if (other !== el) other.classList.add("d-none"); });
    el.textContent = text;
    el.classList.remove("d-none");
  }
  function timeText(iso) {
    var d = new Date(iso);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return (d.getMonth() + 1) + "月" + d.getDate() + "日 " + two(d.getHours()) + ":" + two(d.getMinutes());
  }
  function renderStatus() {
    var data = read(DATA_KEY, null);
    if (!hasWebCrypto) {
      statusLine.textContent = "此浏览器不支持本机核验签名，断网时无法签到，请使用新版 Chrome 或 Edge";
    } else if (data) {
      statusLine.textContent = "断网签到已就绪：离线名单 " + data.registrations.length + " 人（" +
        timeText(data.generated_at) + " 下载）";
    } else {
      statusLine.textContent = "断网签到未就绪：请在有网络时打开本页下载离线名单";
    }
    var n = queue().length;
    pendingLine.textContent = n ? "待同步的离线签到 " + n + " 条，恢复网络后自动同步" : "";
    pendingLine.classList.toggle("d-none", !n);
  }

  // ---- while online: service worker, cache, registrations ------------------------------------

  function prepare() {
    if ("serviceWorker" in navigator && swUrl) {
      navigator.serviceWorker.register(swUrl, { scope: "/events/" }).catch(function () {});
    }
    if (window.caches) {
      var urls = [window.location.pathname];
      document.querySelectorAll("script[src], link[rel=stylesheet][href], link[rel=icon][href]").forEach(function (el) {
        var url = new URL(el.getAttribute("src") || el.getAttribute("href"), window.location.href);
        if (url.origin === window.location.origin) urls.push(url.pathname + url.search);
      });
      window.caches.open(CACHE).then(function (cache) { return cache.addAll(urls); }).catch(function () {});
    }
    return fetch(dataUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) {
        if (data.event.id !== eventId) return;
        write(DATA_KEY, data);
        renderStatus();
        box.setAttribute("data-ready", "1");
      })
      .catch(function () { renderStatus(); });
  }

  // ---- offline verification ------------------------------------------------------------------

  function b64urlBytes(text) {
    if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error("not base64url");
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var bin = window.atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function b64urlJson(text) { return JSON.parse(new TextDecoder().decode(b64urlBytes(text))); }

  function Refusal(message) { this.message = message; }

  // Resolves to {id, name} or rejects with a Refusal carrying the Chinese reason.
  function verify(code, data) {
    var forged = new Refusal("签名无效：签到码是伪造的或被改动，不能签到");
    return Promise.resolve().then(function () {
      if (code.indexOf(PREFIX) !== 0) {
        throw new Refusal("断网时只能核验新版签到码，请让学子刷新“我的活动”后重新出示二维码");
      }
      var parts = code.slice(PREFIX.length).split(".");
      if (parts.length !== 3) throw forged;
      var header, payload, signature;
      try {
        header = b64urlJson(parts[0]);
        payload = b64urlJson(parts[1]);
        signature = b64urlBytes(parts[2]);
      } catch (e) {
        throw forged;
      }
      if (!header || header.alg !== "EdDSA") throw forged;
      var jwk = data.keys.filter(function (k) { return k.kid === header.kid; })[0];
      if (!jwk) throw forged;
      return window.crypto.subtle
        .importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, { name: "Ed25519" }, false, ["verify"])
        .then(function (key) {
          var signed = new TextEncoder().encode(parts[0] + "." + parts[1]);
          return window.crypto.subtle.verify({ name: "Ed25519" }, key, signature, signed);
        }, function () {
          throw new Refusal("此浏览器不支持本机核验签名，断网时无法签到");
        })
        .then(function (valid) {
          if (!valid) throw forged;
          if (!payload || typeof payload.r !== "number" || typeof payload.e !== "number") throw forged;
          if (payload.e !== eventId) throw new Refusal("该签到码不属于本活动");
          var reg = data.registrations.filter(function (r) { return r.id === payload.r; })[0];
          if (!reg) {
            throw new Refusal("该报名不在已确认名单中（已取消、候补或待监护人同意），不能签到");
          }
          if (reg.attended_at) {
            throw new Refusal(reg.name + " 已签到（" + timeText(reg.attended_at) + "），无需重复签到");
          }
          var queued = queue().filter(function (q) { return q.registration_id === reg.id; })[0];
          if (queued) {
            throw new Refusal(reg.name + " 已签到（离线，待同步，" + timeText(queued.at) + "），无需重复签到");
          }
          return reg;
        });
    });
  }

  function checkInOffline(code) {
    var data = read(DATA_KEY, null);
    if (!data) {
      show(errorBox, "断网签到未就绪：本机没有离线名单，请恢复网络后再签到");
      return Promise.resolve();
    }
    if (!hasWebCrypto) {
      show(errorBox, "此浏览器不支持本机核验签名，断网时无法签到");
      return Promise.resolve();
    }
    return verify(code, data).then(function (reg) {
      var items = queue();
      items.push({ code: code, at: new Date().toISOString(), registration_id: reg.id, name: reg.name });
      write(QUEUE_KEY, items);
      show(okBox, reg.name + " 已签到（离线，待同步）");
      renderStatus();
    }, function (err) {
      show(errorBox, err instanceof Refusal ? err.message : "签到码无效");
    });
  }

  var serverResult = document.querySelector("[data-server-result]");

  // Online, the code goes to the server as the form always sent it; the answer's result and
  // count replace this page's. When the request cannot reach the server at all (the venue's
  // Wi-Fi is up but its line is down: navigator.onLine still says true), the phone checks the
  // code itself, as when it knows it is offline.
  function checkInOnline(code) {
    var body = new FormData(form);
    body.set("code", code);
    // A dead line can keep a request hanging for a minute: give up after 8 seconds.
    var abort = window.AbortController ? new AbortController() : null;
    var timer = abort ? window.setTimeout(function () { abort.abort(); }, 8000) : 0;
    return fetch(window.location.pathname, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf ? csrf.value : "" },
      signal: abort ? abort.signal : undefined,
    }).then(function (r) {
      window.clearTimeout(timer);
      return r.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("[data-server-result]");
        if (!fresh || !serverResult) {
          window.location.assign(r.url); // signed out meanwhile: the sign-in page
          return;
        }
        [okBox, errorBox].forEach(function (el) { el.classList.add("d-none"); });
        serverResult.innerHTML = fresh.innerHTML;
        var counter = document.querySelector("[data-testid=attended]");
        var freshCounter = doc.querySelector("[data-testid=attended]");
        if (counter && freshCounter) counter.textContent = freshCounter.textContent;
        sync(); // the server answers: a good moment to send what is queued
      });
    }, function () {
      window.clearTimeout(timer);
      return checkInOffline(code);
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var code = (field.value || "").trim();
    field.value = "";
    field.focus();
    if (!code) {
      show(errorBox, "请扫描或粘贴签到码");
      return;
    }
    if (serverResult) serverResult.innerHTML = "";
    var done = navigator.onLine ? checkInOnline(code) : checkInOffline(code);
    done.then(function () {
      document.dispatchEvent(new CustomEvent("qh:checkin-done"));
    });
  });

  // ---- back online: sync the queue -----------------------------------------------------------

  function sync() {
    var items = queue();
    if (!items.length || syncing || !navigator.onLine) return Promise.resolve();
    syncing = true;
    var sent = items.slice();
    return fetch(syncUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrf ? csrf.value : "",
      },
      body: JSON.stringify({ checkins: sent.map(function (q) { return { code: q.code, at: q.at }; }) }),
    })
      .then(function (r) {
        return r.json().then(function (body) { return { ok: r.ok, body: body }; });
      })
      .then(function (answer) {
        if (!answer.ok) {
          syncBox.textContent = "离线签到同步失败：" + (answer.body.detail || "请稍后重试");
          syncBox.classList.remove("d-none");
          return;
        }
        // Every item sent has an answer: drop exactly those, keep what was queued meanwhile.
        var rest = queue().slice(sent.length);
        write(QUEUE_KEY, rest);
        var recorded = 0, already = 0, lines = [];
        answer.body.results.forEach(function (res) {
          var who = sent[res.index] ? sent[res.index].name : "";
          if (res.status === "recorded") recorded++;
          else if (res.status === "already") { already++; lines.push(res.message); }
          else lines.push("未能同步" + (who ? "（" + who + "）" : "") + "：" + res.message);
        });
        syncBox.textContent = "离线签到已同步：新记录 " + recorded + " 条" +
          (already ? "，已签到过 " + already + " 条" : "") +
          (lines.length ? "。" + lines.join("；") : "");
        syncBox.classList.remove("d-none");
        var counter = document.querySelector("[data-testid=attended]");
        if (counter && typeof answer.body.attended === "number") counter.textContent = answer.body.attended;
        return prepare();
      })
      .catch(function () {
        syncBox.textContent = "离线签到同步失败：网络不可用，恢复后会自动重试";
        syncBox.classList.remove("d-none");
      })
      .then(function () {
        syncing = false;
        renderStatus();
      });
  }

  window.addEventListener("online", function () { sync(); });
  // navigator.onLine cannot tell a dead line behind working Wi-Fi: retry now and then.
  window.setInterval(function () { if (queue().length) sync(); }, 30000);
  window.addEventListener("offline", renderStatus);
  renderStatus();
  if (navigator.onLine) prepare().then(sync);
})();
