// The video interview room (qinghe/video): a device test, then a one-to-one WebRTC call.
// Signalling, text chat and the interviewer's notes go over one websocket (/ws/video/<uuid>/,
// qinghe.video.consumers). Rule: the interviewer always offers, the student answers. Each side
// sends "hello" when it joins and again after its socket reconnects; the interviewer answers a
// student's hello with a fresh connection (new id) and offer, the student answers an
// interviewer's hello with its own hello. A failed ICE connection is rebuilt the same way.
// Observers (staff, where the student agreed) only receive: each side opens one more
// connection per observer (keyed by the observer socket's peer id) and offers its camera and
// microphone send-only; the observer answers. A dropped network is noticed by the socket
// closing or by the browser's offline/online events: back online, the socket reconnects at once
// and the "hello" renegotiates the call (a fresh offer, new ICE). Recording happens only when
// both sides agreed (the interviewer's browser records the call with MediaRecorder and uploads
// it in chunks). Remote videos count their frames in data-frames (for the page's own health
// display and for the browser test).
(function () {
  "use strict";
  var root = document.querySelector("[data-video-room]");
  if (!root) return;
  function $(selector) { return root.querySelector(selector); }

  var party = root.getAttribute("data-party");
  var iceServers = [];
  try { iceServers = JSON.parse(document.getElementById("ice-servers").textContent || "[]"); } catch (e) { iceServers = []; }
  var socketUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + root.getAttribute("data-socket");
  var observing = party === "observer";
  var state = {
    stream: null, socket: null, pc: null, pcId: null, pending: [], joined: false, left: false,
    startsAt: null, endsAt: null, skew: 0, pause: 1000, warned: false, audio: null, failTimer: null,
    retry: null, welcomed: 0, peer: null, heard: Date.now(),
    // A side: connections to observers by observer peer id; an observer: connections by side.
    fans: {}, watched: {}
  };
  var remote = $("[data-remote]");
  var local = $("[data-local]");
  var observed = { interviewer: $('[data-observe="interviewer"]'), student: $('[data-observe="student"]') };
  [remote, observed.interviewer, observed.student].forEach(function (video) {
    if (video) video.setAttribute("data-frames", "0");
  });
  root.setAttribute("data-reconnects", "0");

  function check(name, text, ok) {
    var el = $('[data-check="' + name + '"]');
    if (!el) return;
    el.textContent = text;
    el.className = ok ? "text-success" : "text-danger";
  }
  function show(selector, text) {
    var el = $(selector);
    el.textContent = text;
    el.classList.toggle("d-none", !text);
  }
  function setStatus(text) {
    var el = $("[data-call-status]");
    el.textContent = text;
    el.classList.toggle("d-none", !text);
  }

  // --- device test -----------------------------------------------------------------------------
  function audioContext() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return null;
    if (!state.audio) state.audio = new Ctx();
    if (state.audio.state === "suspended") state.audio.resume();
    return state.audio;
  }

  function startMeter(stream) {
    var ctx = audioContext();
    if (!ctx || !stream.getAudioTracks().length) return;
    var analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    ctx.createMediaStreamSource(stream).connect(analyser);
    var data = new Uint8Array(analyser.fftSize);
    var bar = $("[data-meter]");
    (function draw() {
      analyser.getByteTimeDomainData(data);
      var sum = 0;
      for (var i = 0; i < data.length; i++) { var v = (data[i] - 128) / 128; sum += v * v; }
      var level = Math.min(1, Math.sqrt(sum / data.length) * 4);
      bar.style.width = Math.round(level * 100) + "%";
      requestAnimationFrame(draw);
    })();
  }

  $("[data-speaker-test]").addEventListener("click", function () {
    var ctx = audioContext();
    if (!ctx) { check("speaker", "此浏览器不能播放测试音", false); return; }
    var osc = ctx.createOscillator();
    var gain = ctx.createGain();
    osc.frequency.value = 660;
    gain.gain.value = 0.2;
    osc.connect(gain).connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.6);
    check("speaker", "正在播放，能听到“嘟”声即正常", true);
  });

  function openDevices() {
    if (observing) return;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      check("camera", "浏览器不支持或页面不是 https 打开", false);
      check("microphone", "浏览器不支持", false);
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: true })
      .then(function (stream) {
        state.stream = stream;
        $("[data-preview]").srcObject = stream;
        check("camera", stream.getVideoTracks().length ? "正常" : "未检测到摄像头", stream.getVideoTracks().length > 0);
        check("microphone", stream.getAudioTracks().length ? "正常（说话时绿条会动）" : "未检测到麦克风", stream.getAudioTracks().length > 0);
        startMeter(stream);
      })
      .catch(function (err) {
        var denied = err && (err.name === "NotAllowedError" || err.name === "SecurityError");
        var text = denied ? "未获允许：请在浏览器设置中允许本网站使用摄像头和麦克风" : "无法打开（" + (err && err.name) + "）";
        check("camera", text, false);
        check("microphone", text, false);
        show("[data-error]", "没有摄像头和麦克风也可以加入：你能看到、听到对方，并可以用文字消息交流。");
      });
  }

  // --- the socket ------------------------------------------------------------------------------
  function send(message) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(message));
  }
  function signal(payload, to) {
    var message = { type: "signal", signal: payload };
    if (to) message.to = to;
    send(message);
  }

  function connect() {
    clearTimeout(state.retry);
    state.retry = null;
    var socket = new WebSocket(socketUrl);
    state.socket = socket;
    socket.onmessage = function (event) {
      state.heard = Date.now();
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      handle(data);
    };
    socket.onclose = function (event) {
      if (socket !== state.socket) return;
      if (event.code === 4403 || event.code === 4404) {
        root.setAttribute("data-refused", String(event.code));
        check("connection", "被拒绝", false);
        show("[data-error]", event.code === 4403 ? (observing ? "学生未同意旁听或已撤回同意，旁听已结束。" : "你不是本场视频面试的参与者，连接被拒绝。") : "未找到该视频面试间。");
        $("[data-join]").disabled = true;
        if (observing) closeWatched();
        return;
      }
      if (state.left) return;
      check("connection", "已断开，正在重连…", false);
      if (state.joined) setStatus("网络中断，正在重连…");
      if (navigator.onLine === false) return;  // the "online" event reconnects
      state.retry = setTimeout(connect, state.pause * (0.5 + Math.random()));  // jittered, see live-inbox.js
      state.pause = Math.min(state.pause * 2, 10000);
    };
  }

  // Offline: the socket is as good as dead (a dropped network can leave it half-open for
  // minutes), so close it; back online: reconnect now instead of waiting out the back-off. The
  // welcome of the new socket sends "hello", which renegotiates the call (fresh offer, new ICE).
  function dropSocket() {
    var socket = state.socket;
    if (socket && (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING)) socket.close();
  }
  window.addEventListener("offline", function () {
    if (state.left || root.hasAttribute("data-refused")) return;
    if (state.joined) setStatus("网络已断开，恢复后自动重连…");
    dropSocket();
  });
  window.addEventListener("online", function () {
    if (state.left || root.hasAttribute("data-refused")) return;
    state.pause = 1000;
    var socket = state.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED || socket.readyState === WebSocket.CLOSING) connect();
  });
  // Heartbeat: a socket that has heard nothing for 35 s (not even the answer to a ping sent
  // every 15 s) is closed and reconnected.
  setInterval(function () {
    if (state.left || root.hasAttribute("data-refused")) return;
    var socket = state.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (Date.now() - state.heard > 35000) { dropSocket(); return; }
    send({ type: "ping" });
  }, 15000);

  function handle(data) {
    if (data.type === "welcome") {
      state.pause = 1000;
      state.peer = data.peer;
      state.welcomed += 1;
      root.setAttribute("data-reconnects", String(state.welcomed - 1));
      state.skew = Date.parse(data.now) - Date.now();
      state.startsAt = Date.parse(data.starts_at);
      state.endsAt = Date.parse(data.ends_at);
      check("connection", "正常", true);
      $("[data-join]").disabled = false;
      if (state.joined) {
        setStatus("已重新连接，等待对方…");
        signal({ kind: "hello" });
      }
      tick();
    } else if (data.type === "signal") {
      if (observing) onWatchSignal(data.party, data.from, data.signal || {});
      else if (data.party === "observer") onFanSignal(data.from, data.signal || {});
      else onSignal(data.party, data.signal || {});
    } else if (data.type === "recording") {
      onRecordingState(data);
    } else if (data.type === "pong") {
      return;
    } else if (data.type === "chat") {
      addChat(data);
    } else if (data.type === "saved") {
      $("[data-notes-status]").textContent = "已保存（" + data.at + "）";
    } else if (data.type === "error") {
      var status = $("[data-notes-status]");
      if (status) status.textContent = "";
      show("[data-error]", data.message);
    }
  }

  // --- the call --------------------------------------------------------------------------------
  function closePc() {
    if (state.pc) {
      state.pc.onicecandidate = null;
      state.pc.ontrack = null;
      state.pc.onconnectionstatechange = null;
      state.pc.close();
    }
    state.pc = null;
    state.pcId = null;
    state.pending = [];
  }

  function rebuild() {
    // The connection failed without the socket dropping: start again from "hello".
    if (!state.joined || state.left) return;
    setStatus("连接中断，正在重新连接…");
    if (party === "interviewer") startCall();
    else signal({ kind: "hello" });
  }

  function newPc(id) {
    closePc();
    var pc = new RTCPeerConnection({ iceServers: iceServers });
    state.pc = pc;
    state.pcId = id;
    root.setAttribute("data-pc", id);
    if (state.stream) {
      state.stream.getTracks().forEach(function (track) { pc.addTrack(track, state.stream); });
    } else if (party === "interviewer") {
      pc.addTransceiver("video", { direction: "recvonly" });
      pc.addTransceiver("audio", { direction: "recvonly" });
    }
    pc.onicecandidate = function (event) {
      if (event.candidate) signal({ kind: "candidate", pc: id, candidate: event.candidate.toJSON() });
    };
    pc.ontrack = function (event) {
      var stream = event.streams[0] || new MediaStream([event.track]);
      if (remote.srcObject !== stream) remote.srcObject = stream;
      var playing = remote.play();
      if (playing && playing.catch) playing.catch(function () { setStatus("请点击画面开始播放"); });
    };
    pc.onconnectionstatechange = function () {
      if (pc !== state.pc) return;
      root.setAttribute("data-connection", pc.connectionState);
      clearTimeout(state.failTimer);
      if (pc.connectionState === "connected") setStatus("");
      else if (pc.connectionState === "failed") rebuild();
      else if (pc.connectionState === "disconnected") {
        setStatus("网络不稳定，正在恢复…");
        state.failTimer = setTimeout(function () {
          if (pc === state.pc && pc.connectionState !== "connected") rebuild();
        }, 4000);
      }
    };
    return pc;
  }

  function flush() {
    var pc = state.pc;
    var queued = state.pending;
    state.pending = [];
    queued.forEach(function (candidate) { pc.addIceCandidate(candidate).catch(function () {}); });
  }

  function fail(err) { show("[data-error]", "建立视频连接失败：" + (err && err.message ? err.message : err)); }

  function startCall() {
    var id = Math.random().toString(36).slice(2) + Date.now().toString(36);
    var pc = newPc(id);
    setStatus("正在连接对方…");
    pc.createOffer()
      .then(function (offer) { return pc.setLocalDescription(offer); })
      .then(function () { if (state.pcId === id) signal({ kind: "offer", pc: id, sdp: pc.localDescription.sdp }); })
      .catch(fail);
  }

  function onOffer(message) {
    var pc = newPc(message.pc);
    setStatus("正在连接对方…");
    pc.setRemoteDescription({ type: "offer", sdp: message.sdp })
      .then(flush)
      .then(function () { return pc.createAnswer(); })
      .then(function (answer) { return pc.setLocalDescription(answer); })
      .then(function () { if (state.pcId === message.pc) signal({ kind: "answer", pc: message.pc, sdp: pc.localDescription.sdp }); })
      .catch(fail);
  }

  function onSignal(from, message) {
    if (!state.joined || state.left) return;
    if (message.kind === "hello") {
      if (party === "interviewer" && from === "student") startCall();
      else if (party === "student" && from === "interviewer") signal({ kind: "hello" });
    } else if (message.kind === "offer" && party === "student") {
      onOffer(message);
    } else if (message.kind === "answer" && party === "interviewer" && state.pc && message.pc === state.pcId) {
      var pc = state.pc;
      pc.setRemoteDescription({ type: "answer", sdp: message.sdp }).then(flush).catch(fail);
    } else if (message.kind === "candidate" && state.pc && message.pc === state.pcId) {
      if (state.pc.remoteDescription) state.pc.addIceCandidate(message.candidate).catch(function () {});
      else state.pending.push(message.candidate);
    } else if (message.kind === "bye") {
      closePc();
      remote.srcObject = null;
      setStatus("对方已离开，等待对方重新加入…");
    }
  }

  // --- a side's connections to observers (send-only) ----------------------------------------
  function closeFan(peerId) {
    var fan = state.fans[peerId];
    if (!fan) return;
    fan.pc.onicecandidate = null;
    fan.pc.close();
    delete state.fans[peerId];
  }

  function offerToObserver(peerId) {
    if (!state.stream) return;  // nothing to send without a camera or microphone
    closeFan(peerId);
    var id = Math.random().toString(36).slice(2) + Date.now().toString(36);
    var pc = new RTCPeerConnection({ iceServers: iceServers });
    var fan = { pc: pc, id: id, pending: [] };
    state.fans[peerId] = fan;
    state.stream.getTracks().forEach(function (track) {
      pc.addTransceiver(track, { direction: "sendonly", streams: [state.stream] });
    });
    pc.onicecandidate = function (event) {
      if (event.candidate) signal({ kind: "candidate", pc: id, candidate: event.candidate.toJSON() }, peerId);
    };
    pc.createOffer()
      .then(function (offer) { return pc.setLocalDescription(offer); })
      .then(function () { if (state.fans[peerId] === fan) signal({ kind: "offer", pc: id, sdp: pc.localDescription.sdp }, peerId); })
      .catch(function () { closeFan(peerId); });
  }

  function onFanSignal(peerId, message) {
    if (!state.joined || state.left || !peerId) return;
    var fan = state.fans[peerId];
    if (message.kind === "hello") {
      offerToObserver(peerId);
    } else if (message.kind === "answer" && fan && message.pc === fan.id) {
      fan.pc.setRemoteDescription({ type: "answer", sdp: message.sdp }).then(function () {
        fan.pending.forEach(function (c) { fan.pc.addIceCandidate(c).catch(function () {}); });
        fan.pending = [];
      }).catch(function () { closeFan(peerId); });
    } else if (message.kind === "candidate" && fan && message.pc === fan.id) {
      if (fan.pc.remoteDescription) fan.pc.addIceCandidate(message.candidate).catch(function () {});
      else fan.pending.push(message.candidate);
    } else if (message.kind === "bye") {
      closeFan(peerId);
    }
  }

  // --- an observer's connections to the two sides (receive-only) ---------------------------
  function closeWatched(side) {
    Object.keys(state.watched).forEach(function (key) {
      if (side && key !== side) return;
      var watch = state.watched[key];
      watch.pc.onicecandidate = null;
      watch.pc.ontrack = null;
      watch.pc.close();
      if (observed[key]) observed[key].srcObject = null;
      delete state.watched[key];
    });
  }

  function onWatchSignal(side, from, message) {
    if (!state.joined || state.left || !observed[side]) return;
    var watch = state.watched[side];
    if (message.kind === "hello") {
      signal({ kind: "hello" }, from);
    } else if (message.kind === "offer") {
      closeWatched(side);
      var pc = new RTCPeerConnection({ iceServers: iceServers });
      watch = { pc: pc, id: message.pc, from: from, pending: [] };
      state.watched[side] = watch;
      pc.onicecandidate = function (event) {
        if (event.candidate) signal({ kind: "candidate", pc: message.pc, candidate: event.candidate.toJSON() }, from);
      };
      pc.ontrack = function (event) {
        var video = observed[side];
        var stream = event.streams[0] || new MediaStream([event.track]);
        if (video.srcObject !== stream) video.srcObject = stream;
        var playing = video.play();
        if (playing && playing.catch) playing.catch(function () { setStatus("请点击画面开始播放"); });
      };
      pc.onconnectionstatechange = function () {
        if (pc.connectionState === "connected") setStatus("");
      };
      pc.setRemoteDescription({ type: "offer", sdp: message.sdp })
        .then(function () {
          watch.pending.forEach(function (c) { pc.addIceCandidate(c).catch(function () {}); });
          watch.pending = [];
          return pc.createAnswer();
        })
        .then(function (answer) { return pc.setLocalDescription(answer); })
        .then(function () {
          if (state.watched[side] !== watch) return;
          // What this observer sends: no track at all (shown for the browser test).
          var sending = 0;
          Object.keys(state.watched).forEach(function (key) {
            sending += state.watched[key].pc.getSenders().filter(function (sender) { return sender.track; }).length;
          });
          root.setAttribute("data-sending", String(sending));
          signal({ kind: "answer", pc: message.pc, sdp: pc.localDescription.sdp }, from);
        })
        .catch(fail);
    } else if (message.kind === "candidate" && watch && message.pc === watch.id) {
      if (watch.pc.remoteDescription) watch.pc.addIceCandidate(message.candidate).catch(function () {});
      else watch.pending.push(message.candidate);
    } else if (message.kind === "bye") {
      closeWatched(side);
    }
  }

  function countFramesOf(video, pcOf) {
    if (!video) return;
    if ("requestVideoFrameCallback" in video) {
      var onFrame = function () {
        video.setAttribute("data-frames", String(Number(video.getAttribute("data-frames")) + 1));
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    } else {
      setInterval(function () {
        var pc = pcOf();
        if (!pc) return;
        pc.getStats().then(function (stats) {
          stats.forEach(function (report) {
            if (report.type === "inbound-rtp" && report.kind === "video") video.setAttribute("data-frames", String(report.framesDecoded || 0));
          });
        });
      }, 1000);
    }
  }
  function countFrames() {
    if (observing) {
      ["interviewer", "student"].forEach(function (side) {
        countFramesOf(observed[side], function () { return state.watched[side] && state.watched[side].pc; });
      });
    } else {
      countFramesOf(remote, function () { return state.pc; });
    }
  }

  $("[data-join]").addEventListener("click", function () {
    audioContext();
    state.joined = true;
    $('[data-step="test"]').classList.add("d-none");
    $('[data-step="call"]').classList.remove("d-none");
    if (state.stream && local) {
      local.srcObject = state.stream;
      $("[data-preview]").srcObject = null;
    }
    countFrames();
    setStatus(observing ? "等待双方加入…" : "等待对方加入…");
    if (rec.last) onRecordingState(rec.last);
    signal({ kind: "hello" });
  });

  function onClick(selector, handler) {
    var el = $(selector);
    if (el) el.addEventListener("click", handler);
  }
  onClick("[data-toggle-mic]", function (event) {
    if (!state.stream) return;
    var tracks = state.stream.getAudioTracks();
    var on = tracks.length && !tracks[0].enabled;
    tracks.forEach(function (track) { track.enabled = on; });
    event.currentTarget.textContent = on ? "静音" : "取消静音";
  });
  onClick("[data-toggle-cam]", function (event) {
    if (!state.stream) return;
    var tracks = state.stream.getVideoTracks();
    var on = tracks.length && !tracks[0].enabled;
    tracks.forEach(function (track) { track.enabled = on; });
    event.currentTarget.textContent = on ? "关闭摄像头" : "打开摄像头";
  });
  $("[data-leave]").addEventListener("click", function () {
    signal({ kind: "bye" });
    state.left = true;
    stopRecording();
    closePc();
    Object.keys(state.fans).forEach(closeFan);
    closeWatched();
    if (state.stream) state.stream.getTracks().forEach(function (track) { track.stop(); });
    if (remote) remote.srcObject = null;
    if (local) local.srcObject = null;
    setStatus("你已离开面试；刷新页面可重新加入");
    if (state.socket) state.socket.close();
  });
  [remote, observed.interviewer, observed.student].forEach(function (video) {
    if (video) video.addEventListener("click", function () { video.play().then(function () { setStatus(""); }, function () {}); });
  });

  // --- the slot timer --------------------------------------------------------------------------
  function mmss(seconds) {
    var m = Math.floor(seconds / 60);
    var s = seconds % 60;
    return (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }
  function tick() {
    if (!state.endsAt) return;
    var now = Date.now() + state.skew;
    var timer = $("[data-timer]");
    if (now < state.startsAt) {
      timer.textContent = "距开始 " + mmss(Math.ceil((state.startsAt - now) / 1000));
      return;
    }
    var left = Math.round((state.endsAt - now) / 1000);
    if (left > 0) {
      timer.textContent = "剩余 " + mmss(left);
      if (left <= 60 && !state.warned) {
        state.warned = true;
        show("[data-warning]", "本场面试还剩 1 分钟。");
      }
    } else {
      timer.textContent = "已超时 " + mmss(-left);
      show("[data-warning]", "面试时间已到，请尽快结束。");
    }
  }
  setInterval(tick, 1000);

  // --- text chat and notes ---------------------------------------------------------------------
  function addChat(message) {
    var list = $("[data-chat]");
    var item = document.createElement("li");
    var who = document.createElement("strong");
    who.textContent = (message.mine ? "我" : message.who) + " " + message.at + "：";
    item.appendChild(who);
    item.appendChild(document.createTextNode(message.text));
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }
  var chatForm = $("[data-chat-form]");
  if (chatForm) {
    chatForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = $("[data-chat-text]");
      var text = input.value.trim();
      if (!text) return;
      send({ type: "chat", text: text });
      input.value = "";
    });
  }
  var notesForm = $("[data-notes-form]");
  if (notesForm) {
    notesForm.addEventListener("submit", function (event) {
      event.preventDefault();
      show("[data-error]", "");
      $("[data-notes-status]").textContent = "保存中…";
      send({ type: "notes", notes: $("[data-notes]").value, result: $("[data-result]").value });
    });
  }

  // --- recording (only when both sides agreed) ------------------------------------------------
  var recordBox = $("[data-recording]");
  var csrfInput = root.querySelector("input[name=csrfmiddlewaretoken]");
  var rec = { consent: { interviewer: false, student: false }, running: false, recorder: null,
              urls: null, seq: 0, queue: Promise.resolve(), failed: false, canvas: null, draw: null };

  function recordStatus(text) {
    var el = $("[data-record-status]");
    if (el) el.textContent = text;
  }
  function post(url, body, contentType) {
    var headers = { "X-CSRFToken": csrfInput ? csrfInput.value : "", "Accept": "application/json" };
    if (contentType) headers["Content-Type"] = contentType;
    return fetch(url, { method: "POST", credentials: "same-origin", headers: headers, body: body })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) {
            var error = new Error(data.detail || ("请求失败（" + response.status + "）"));
            error.status = response.status;
            throw error;
          }
          return data;
        });
      });
  }

  function onRecordingState(data) {
    rec.last = data;
    rec.consent = { interviewer: !!data.interviewer, student: !!data.student };
    rec.running = !!data.recording;
    ["interviewer", "student"].forEach(function (side) {
      var el = $('[data-consent="' + side + '"]');
      if (el) el.textContent = rec.consent[side] ? "已同意" : "未同意";
    });
    var mine = rec.consent[party];
    var value = $("[data-consent-value]");
    var button = $("[data-consent-button]");
    if (value && button) {
      value.value = mine ? "0" : "1";
      button.textContent = mine ? "撤回录制同意" : "同意录制";
    }
    var banner = $("[data-recording-on]");
    if (banner) banner.classList.toggle("d-none", !data.recording);
    var both = rec.consent.interviewer && rec.consent.student;
    var start = $("[data-record-start]");
    if (start) start.disabled = !both || !!rec.recorder || !state.joined;
    root.setAttribute("data-recording-consent", both ? "both" : "missing");
    if (!both && rec.recorder) {
      stopRecording();
      recordStatus("一方撤回了录制同意，录制已停止。");
    }
  }

  if (recordBox) {
    var consentForm = $("[data-consent-form]");
    consentForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = new URLSearchParams();
      body.set("agreed", $("[data-consent-value]").value);
      post(recordBox.getAttribute("data-consent-url"), body.toString(), "application/x-www-form-urlencoded")
        .then(onRecordingState)
        .catch(function (err) { recordStatus(err.message); });
    });
  }

  function recordingStream() {
    // The call as one picture (the other side large, this side small) and one sound (both).
    var canvas = document.createElement("canvas");
    canvas.width = 640;
    canvas.height = 480;
    var ctx2d = canvas.getContext("2d");
    rec.canvas = canvas;
    rec.draw = setInterval(function () {
      ctx2d.fillStyle = "#111";
      ctx2d.fillRect(0, 0, canvas.width, canvas.height);
      if (remote.videoWidth) ctx2d.drawImage(remote, 0, 0, canvas.width, canvas.height);
      if (local && local.videoWidth) ctx2d.drawImage(local, canvas.width * 0.7, canvas.height * 0.7, canvas.width * 0.28, canvas.height * 0.28);
    }, 66);
    var out = canvas.captureStream(15);
    var ctx = audioContext();
    if (ctx) {
      var mix = ctx.createMediaStreamDestination();
      [state.stream, remote.srcObject].forEach(function (stream) {
        if (stream && stream.getAudioTracks().length) ctx.createMediaStreamSource(stream).connect(mix);
      });
      mix.stream.getAudioTracks().forEach(function (track) { out.addTrack(track); });
    }
    return out;
  }

  function upload(blob) {
    var seq = rec.seq;
    rec.seq += 1;
    var urls = rec.urls;
    rec.queue = rec.queue.then(function () {
      if (rec.failed || !blob.size) return null;
      return post(urls.chunks + seq + "/", blob, "video/webm").then(function () {
        root.setAttribute("data-chunks", String(seq + 1));
      }).catch(function (err) {
        rec.failed = true;
        recordStatus("录像上传被拒绝：" + err.message);
        stopRecording();
      });
    });
    return rec.queue;
  }

  function stopRecording() {
    var recorder = rec.recorder;
    if (!recorder) return;
    rec.recorder = null;
    clearInterval(rec.draw);
    var urls = rec.urls;
    recorder.onstop = function () {
      rec.queue.then(function () {
        if (rec.failed) return null;
        return post(urls.stop, "", null).then(function (data) {
          recordStatus("录制已结束，已保存 " + data.chunks + " 段。刷新页面可下载。");
        });
      }).catch(function (err) { recordStatus(err.message); });
    };
    if (recorder.state !== "inactive") recorder.stop();
    var start = $("[data-record-start]");
    var stop = $("[data-record-stop]");
    if (start) start.classList.remove("d-none");
    if (stop) stop.classList.add("d-none");
  }

  onClick("[data-record-start]", function () {
    if (!window.MediaRecorder) { recordStatus("此浏览器不支持录制"); return; }
    var start = $("[data-record-start]");
    start.disabled = true;
    post(recordBox.getAttribute("data-start-url"), "", null).then(function (data) {
      rec.urls = { chunks: data.chunks, stop: data.stop };
      rec.seq = 0;
      rec.failed = false;
      rec.queue = Promise.resolve();
      var type = MediaRecorder.isTypeSupported("video/webm;codecs=vp8,opus") ? "video/webm;codecs=vp8,opus" : "video/webm";
      var recorder = new MediaRecorder(recordingStream(), { mimeType: type, videoBitsPerSecond: 600000 });
      rec.recorder = recorder;
      recorder.ondataavailable = function (event) { if (event.data && event.data.size) upload(event.data); };
      recorder.start(2000);
      start.classList.add("d-none");
      $("[data-record-stop]").classList.remove("d-none");
      recordStatus("正在录制…");
    }).catch(function (err) {
      start.disabled = false;
      recordStatus(err.message);
    });
  });
  onClick("[data-record-stop]", function () { stopRecording(); });

  openDevices();
  connect();
})();
