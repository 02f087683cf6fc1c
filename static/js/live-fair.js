// 云招聘会, live: a booth page's socket (/ws/fairs/booths/<id>/) sends the student's own place
// in the queue; the enterprise's queue page (/ws/fairs/booths/<id>/queue/) gets the whole
// queue; the hall (/ws/fairs/<id>/hall/) gets every booth's queue length. All are sent on
// connect and after every change (qinghe.fairs.consumers). A refused socket (4403/4404) stays
// closed; a dropped one reconnects with a growing pause.
(function () {
  "use strict";
  if (!("WebSocket" in window)) return;
  var booth = document.querySelector("[data-live-booth]");
  var queue = document.querySelector("[data-live-queue]");
  var hall = document.querySelector("[data-live-hall]");
  var root = booth || queue || hall;
  if (!root) return;
  var path = root.getAttribute(booth ? "data-live-booth" : queue ? "data-live-queue" : "data-live-hall");
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path;
  var pause = 1000;

  function q(id) { return root.querySelector("[data-testid=" + id + "]"); }
  function text(id, value) { var el = q(id); if (el) el.textContent = value === null || value === undefined ? "" : String(value); }

  function renderBooth(data) {
    text("queue-length", data.length);
    text("position", data.position);
    text("wait", data.wait_minutes);
    var place = q("my-place"), called = q("called");
    if (place) place.hidden = data.state !== "waiting";
    if (called) called.hidden = data.state !== "called";
    var roomLink = q("room-link");
    if (roomLink) {
      roomLink.hidden = !data.room_url;
      if (data.room_url) roomLink.setAttribute("href", data.room_url);
    }
    if (data.state === "called" && window.navigator.vibrate) window.navigator.vibrate(300);
  }

  function renderQueue(data) {
    text("queue-length", data.length);
    var list = q("waiting-list");
    if (!list) return;
    list.textContent = "";
    data.waiting.forEach(function (row) {
      var li = document.createElement("li");
      li.textContent = row.name;
      if (row.invited) {
        var badge = document.createElement("span");
        badge.className = "badge text-bg-info ms-1";
        badge.textContent = "邀请";
        li.appendChild(badge);
      }
      list.appendChild(li);
    });
    // The called list carries forms (with the CSRF token): a change there reloads the page.
    var shown = root.querySelectorAll("[data-testid=called-list] form").length / 2;
    if (shown !== data.called.length) location.reload();
  }

  // The hall: each booth card's queue length and wait; a booth approved after the page was
  // drawn has no card, so the page offers a refresh instead of drawing one.
  function renderHall(data) {
    var fresh = false;
    data.booths.forEach(function (row) {
      var card = root.querySelector("[data-booth='" + row.id + "']");
      if (!card) { fresh = true; return; }
      var length = card.querySelector("[data-testid=booth-length]");
      var wait = card.querySelector("[data-testid=booth-wait]");
      if (length) length.textContent = String(row.length);
      if (wait) wait.textContent = String(row.wait_minutes);
    });
    var note = document.querySelector("[data-testid=hall-new-booth]");
    if (note && fresh) note.hidden = false;
  }

  function connect() {
    var socket = new WebSocket(url);
    socket.onopen = function () { pause = 1000; };
    socket.onmessage = function (event) {
      try {
        var data = JSON.parse(event.data);
        if (data.type === "queue") renderBooth(data);
        else if (data.type === "queue_admin") renderQueue(data);
        else if (data.type === "hall") renderHall(data);
      } catch (e) { /* ignore a malformed frame */ }
    };
    socket.onclose = function (event) {
      if (event.code === 4403 || event.code === 4404) return;
      setTimeout(connect, pause * (0.5 + Math.random()));  // jittered, see live-inbox.js
      pause = Math.min(pause * 2, 30000);
    };
  }
  connect();
})();
