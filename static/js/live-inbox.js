// 我的消息 badge, live: a websocket to /ws/inbox/ (qinghe.notifications.consumers) sends the
// unread count on connect and after every change. A refused socket (4403) stays closed; a
// dropped one reconnects with a growing, jittered pause, and the server resends the count on
// reconnect (bench/fault_drills.py drill 5: Redis restarted under live pages).
(function () {
  "use strict";
  var link = document.querySelector("[data-live-inbox]");
  if (!link || !("WebSocket" in window)) return;
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + link.getAttribute("data-live-inbox");
  var pause = 1000;

  function render(unread) {
    var badge = link.querySelector("[data-testid=inbox-unread]");
    if (!unread) {
      if (badge) badge.remove();
      return;
    }
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "badge rounded-pill text-bg-danger ms-1";
      badge.setAttribute("data-testid", "inbox-unread");
      link.appendChild(badge);
    }
    badge.textContent = String(unread);
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = "条未读";
    badge.appendChild(hidden);
  }

  function connect() {
    var socket = new WebSocket(url);
    socket.onopen = function () { pause = 1000; };
    socket.onmessage = function (event) {
      try {
        var data = JSON.parse(event.data);
        if (data.type === "inbox") render(data.unread);
      } catch (e) { /* ignore a malformed frame */ }
    };
    socket.onclose = function (event) {
      if (event.code === 4403 || event.code === 4404) return;
      // Jittered (0.5–1.5×) so that thousands of pages cut at the same moment (Redis or a web
      // worker restarted) do not all come back in the same second.
      setTimeout(connect, pause * (0.5 + Math.random()));
      pause = Math.min(pause * 2, 30000);
    };
  }
  connect();
})();
