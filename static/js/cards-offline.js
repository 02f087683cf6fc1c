// The partner's verify page without a network: the page carries the published JWK Set
// (/.well-known/jwks.json, public Ed25519 keys only) and keeps a copy in localStorage; when the
// phone is offline the code (scanned, photographed or pasted) is checked here with WebCrypto
// (Ed25519 over the JWS signing input), then the issuer, the token's expiry and the card's
// validity. Only valid/invalid, the tier, the masked name and the expiry are shown. A loss or
// suspension can only be seen online: the page says so.
(function () {
  "use strict";
  var STORE = "qinghe.card.jwks";
  var config = null;
  var node = document.getElementById("card-offline");
  try {
    config = node ? JSON.parse(node.textContent) : null;
    if (config && config.jwks) window.localStorage.setItem(STORE, JSON.stringify(config.jwks));
    else if (config) config.jwks = JSON.parse(window.localStorage.getItem(STORE) || "null");
  } catch (e) {
    config = null;
  }
  var field = document.getElementById("id_t");
  var form = field ? field.form : null;
  var out = document.querySelector("[data-offline-result]");
  if (!config || !form || !out) return;

  function bytes(part) {
    var b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = window.atob(b64);
    var arr = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) arr[i] = raw.charCodeAt(i);
    return arr;
  }

  function json(part) {
    return JSON.parse(new TextDecoder().decode(bytes(part)));
  }

  function show(ok, text) {
    out.hidden = false;
    out.className = "alert mt-3 " + (ok ? "alert-success" : "alert-danger");
    out.setAttribute("data-valid", ok ? "1" : "0");
    out.textContent = text;
  }

  function today() {
    return new Date().toLocaleDateString("sv-SE", { timeZone: "Asia/Shanghai" });
  }

  function check(token) {
    var parts = token.split(".");
    if (parts.length !== 3) return Promise.reject("二维码内容无效");
    var header, claims;
    try {
      header = json(parts[0]);
      claims = json(parts[1]);
    } catch (e) {
      return Promise.reject("二维码内容无效");
    }
    var keys = (config.jwks && config.jwks.keys) || [];
    var jwk = keys.filter(function (k) { return k.kid === header.kid; })[0];
    if (header.alg !== "EdDSA" || !jwk || jwk.crv !== "Ed25519") {
      return Promise.reject("签名无效：不是鹤才青年卡的电子卡");
    }
    var data = new TextEncoder().encode(parts[0] + "." + parts[1]);
    return window.crypto.subtle
      .importKey("jwk", { kty: "OKP", crv: "Ed25519", x: jwk.x }, { name: "Ed25519" }, false, ["verify"])
      .then(function (key) {
        return window.crypto.subtle.verify({ name: "Ed25519" }, key, bytes(parts[2]), data);
      })
      .then(function (good) {
        if (!good) throw "签名无效：不是鹤才青年卡的电子卡，或内容被改动";
        if (claims.iss !== config.iss) throw "签名无效：签发方不符";
        if (typeof claims.exp !== "number" || claims.exp * 1000 <= Date.now()) {
          throw "电子卡二维码已过期，请持卡人刷新后重新出示";
        }
        if (!claims.vu || claims.vu < today()) throw "该卡已过有效期";
        return claims;
      });
  }

  form.addEventListener("submit", function (event) {
    if (navigator.onLine) return; // online: the server checks the card's current standing too
    event.preventDefault();
    var token = (field.value || "").trim();
    check(token)
      .then(function (claims) {
        var tier = config.tiers[claims.tier] || claims.tier;
        show(true, "有效（离线核验） · " + tier + (claims.dep ? " · 家属卡" : "") + " · 持卡人 " +
          claims.nm + " · 有效期至 " + claims.vu +
          " · 未联网，无法确认是否挂失或暂停，恢复网络后可再核验并登记权益");
      })
      .catch(function (reason) {
        show(false, "无效（离线核验） · " + (typeof reason === "string" ? reason : "无法核验签名"));
      });
  });
})();
