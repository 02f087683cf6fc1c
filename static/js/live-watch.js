// 直播带岗 watch page: plays the stream (hls.js where Media Source Extensions exist, the
// browser's own HLS on Safari and WeChat on iOS), keeps the question box and the viewer count
// live over /ws/live/<id>/ (qinghe.live.consumers), and applies to featured postings in one click
// (the consent is asked once, then remembered by the server for this stream).
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root) return;

  // --- the player -----------------------------------------------------------------------------
  var video = document.getElementById("player");
  var note = document.getElementById("player-note");
  if (video) {
    var src = video.getAttribute("data-src");
    if (window.Hls && window.Hls.isSupported()) {
      var hls = new window.Hls({ enableWorker: false, liveSyncDurationCount: 3 });
      hls.on(window.Hls.Events.ERROR, function (_e, data) {
        if (data.fatal) {
          if (note) note.textContent = "直播信号暂时中断，正在重试……";
          if (data.type === window.Hls.ErrorTypes.NETWORK_ERROR) {
            setTimeout(function () { hls.startLoad(); }, 3000);
          } else {
            hls.recoverMediaError();
          }
        }
      });
      hls.loadSource(src);
      hls.attachMedia(video);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = src;
    } else if (note) {
      note.textContent = "当前浏览器无法播放直播，请使用新版浏览器或微信打开。";
    }
    var play = video.play && video.play();
    if (play && play.catch) play.catch(function () { /* autoplay refused: the controls remain */ });
  }

  // --- the question box -----------------------------------------------------------------------
  var list = document.getElementById("questions");
  var team = list && list.getAttribute("data-team") === "1";
  var moderator = list && list.getAttribute("data-moderator") === "1";
  var viewers = root.querySelector("[data-testid=viewers]");
  var askNote = document.getElementById("ask-note");
  var socket = null;
  var pause = 1000;

  function say(el, text, bad) {
    if (!el) return;
    el.textContent = text;
    el.className = "small mb-2 " + (bad ? "text-danger" : "text-success");
  }

  function button(label, action, id) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "btn btn-link btn-sm p-0 me-2";
    b.textContent = label;
    b.addEventListener("click", function () {
      var msg = { action: action, id: id };
      if (action === "answer") {
        var text = window.prompt("回答（500 字以内）");
        if (!text) return;
        msg.text = text;
      }
      send(msg);
    });
    return b;
  }

  function render(q) {
    var li = document.getElementById("q-" + q.id);
    if (!li) {
      li = document.createElement("li");
      li.id = "q-" + q.id;
      li.className = "border-bottom py-2";
      li.setAttribute("data-testid", "question");
    }
    li.textContent = "";
    var head = document.createElement("div");
    if (q.pinned) {
      var pin = document.createElement("span");
      pin.className = "badge text-bg-warning me-1";
      pin.textContent = "置顶";
      head.appendChild(pin);
    }
    if (q.state === "held") {
      var held = document.createElement("span");
      held.className = "badge text-bg-secondary me-1";
      held.textContent = "待审核";
      head.appendChild(held);
    }
    var text = document.createElement("span");
    text.className = "text-break";
    text.textContent = q.text;
    head.appendChild(text);
    var at = document.createElement("span");
    at.className = "small text-body-secondary ms-2";
    at.textContent = q.at;
    head.appendChild(at);
    li.appendChild(head);
    if (q.answer) {
      var ans = document.createElement("div");
      ans.className = "small text-success text-break";
      ans.textContent = "答：" + q.answer;
      li.appendChild(ans);
    }
    if (team) {
      var tools = document.createElement("div");
      if (q.state === "visible") {
        tools.appendChild(button("回答", "answer", q.id));
        tools.appendChild(button(q.pinned ? "取消置顶" : "置顶", q.pinned ? "unpin" : "pin", q.id));
      }
      if (moderator && q.state === "held") tools.appendChild(button("通过", "release", q.id));
      if (moderator) tools.appendChild(button("隐藏", "hide", q.id));
      li.appendChild(tools);
    }
    if (q.state === "hidden") {
      li.remove();
      return;
    }
    if (q.pinned) list.insertBefore(li, list.firstChild);
    else if (!li.parentNode) list.appendChild(li);
  }

  function send(msg) {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify(msg));
    else say(askNote, "连接已断开，正在重连……", true);
  }

  function connect() {
    if (!list || !("WebSocket" in window)) return;
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + root.getAttribute("data-socket");
    socket = new WebSocket(url);
    socket.onopen = function () { pause = 1000; };
    socket.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.type === "state") {
        list.textContent = "";
        data.questions.forEach(render);
        if (viewers) viewers.textContent = String(data.viewers);
      } else if (data.type === "question") {
        render(data.question);
      } else if (data.type === "removed") {
        var gone = document.getElementById("q-" + data.id);
        if (gone && !team) gone.remove();
      } else if (data.type === "viewers") {
        if (viewers) viewers.textContent = String(data.count);
      } else if (data.type === "asked") {
        say(askNote, data.held ? "问题已提交，审核后公开。" : "问题已发送。", false);
      } else if (data.type === "error") {
        say(askNote, data.message, true);
      } else if (data.type === "stream") {
        location.reload();
      }
    };
    socket.onclose = function (event) {
      if (event.code === 4403 || event.code === 4404) return;
      setTimeout(connect, pause * (0.5 + Math.random()));  // jittered, see live-inbox.js
      pause = Math.min(pause * 2, 30000);
    };
  }
  connect();

  var form = document.getElementById("ask-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = document.getElementById("ask-text");
      var text = input.value.trim();
      if (!text) { say(askNote, "请填写问题", true); return; }
      send({ action: "ask", text: text });
      input.value = "";
    });
  }

  // --- one-click application ------------------------------------------------------------------
  var applyNote = document.getElementById("apply-note");
  var consentBox = document.getElementById("consent-box");
  var csrf = root.querySelector("input[name=csrfmiddlewaretoken]");
  var waiting = null;

  function apply(btn, consent) {
    var body = new FormData();
    if (consent) body.append("consent", "1");
    btn.disabled = true;
    fetch(btn.getAttribute("data-apply"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf ? csrf.value : "" }
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (data.ok) {
        var done = document.createElement("span");
        done.className = "badge text-bg-success mt-1";
        done.textContent = "已投递";
        btn.replaceWith(done);
        say(applyNote, data.message, false);
      } else if (data.need_consent) {
        btn.disabled = false;
        waiting = btn;
        consentBox.hidden = false;
        document.getElementById("consent-check").focus();
      } else {
        btn.disabled = false;
        say(applyNote, data.message || "投递失败，请稍后再试", true);
      }
    }).catch(function () {
      btn.disabled = false;
      say(applyNote, "网络异常，投递未完成，请重试", true);
    });
  }

  Array.prototype.forEach.call(root.querySelectorAll("[data-apply]"), function (btn) {
    btn.addEventListener("click", function () { apply(btn, false); });
  });
  if (consentBox) {
    document.getElementById("consent-go").addEventListener("click", function () {
      if (!document.getElementById("consent-check").checked) {
        say(applyNote, "请先勾选同意", true);
        return;
      }
      consentBox.hidden = true;
      if (waiting) apply(waiting, true);
      waiting = null;
    });
    document.getElementById("consent-cancel").addEventListener("click", function () {
      consentBox.hidden = true;
      waiting = null;
    });
  }
})();
