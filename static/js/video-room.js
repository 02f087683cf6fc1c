// The video interview room (qinghe/video): a device test, then a one-to-one WebRTC call.
// Signalling, text chat and the interviewer's notes go over one websocket (/ws/video/<uuid>/,
// qinghe.video.consumers). Rule: the interviewer always offers, the student answers. Each side
// sends "hello" when it joins and again after its socket reconnects; the interviewer answers a
// student's hello with a fresh connection (new id) and offer, the student answers an
// interviewer's hello with its own hello. A failed ICE connection is rebuilt the same way.
// Nothing is recorded. The remote video counts its frames in data-frames (for the page's own
// health display and for the browser test).
(function () {
  "use strict";
  var root = document.querySelector("[data-video-room]");
  if (!root) return;
  function $(selector) { return root.querySelector(selector); }

  var party = root.getAttribute("data-party");
  var iceServers = [];
  try { iceServers = JSON.parse(document.getElementById("ice-servers").textContent || "[]"); } catch (e) { iceServers = []; }
  var socketUrl = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + root.getAttribute("data-socket");
  var state = {
    stream: null, socket: null, pc: null, pcId: null, pending: [], joined: false, left: false,
    startsAt: null, endsAt: null, skew: 0, pause: 1000, warned: false, audio: null, failTimer: null
  };
  var remote = $("[data-remote]");
  var local = $("[data-local]");
  remote.setAttribute("data-frames", "0");

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
  function signal(payload) { send({ type: "signal", signal: payload }); }

  function connect() {
    var socket = new WebSocket(socketUrl);
    state.socket = socket;
    socket.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      handle(data);
    };
    socket.onclose = function (event) {
      if (socket !== state.socket) return;
      if (event.code === 4403 || event.code === 4404) {
        root.setAttribute("data-refused", String(event.code));
        check("connection", "被拒绝", false);
        show("[data-error]", event.code === 4403 ? "你不是本场视频面试的参与者，连接被拒绝。" : "未找到该视频面试间。");
        $("[data-join]").disabled = true;
        return;
      }
      if (state.left) return;
      check("connection", "已断开，正在重连…", false);
      if (state.joined) setStatus("网络中断，正在重连…");
      setTimeout(connect, state.pause * (0.5 + Math.random()));  // jittered, see live-inbox.js
      state.pause = Math.min(state.pause * 2, 10000);
    };
  }

  function handle(data) {
    if (data.type === "welcome") {
      state.pause = 1000;
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
      onSignal(data.party, data.signal || {});
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

  function countFrames() {
    if ("requestVideoFrameCallback" in remote) {
      var onFrame = function () {
        remote.setAttribute("data-frames", String(Number(remote.getAttribute("data-frames")) + 1));
        remote.requestVideoFrameCallback(onFrame);
      };
      remote.requestVideoFrameCallback(onFrame);
    } else {
      setInterval(function () {
        if (!state.pc) return;
        state.pc.getStats().then(function (stats) {
          stats.forEach(function (report) {
            if (report.type === "inbound-rtp" && report.kind === "video") remote.setAttribute("data-frames", String(report.framesDecoded || 0));
          });
        });
      }, 1000);
    }
  }

  $("[data-join]").addEventListener("click", function () {
    audioContext();
    state.joined = true;
    $('[data-step="test"]').classList.add("d-none");
    $('[data-step="call"]').classList.remove("d-none");
    if (state.stream) {
      local.srcObject = state.stream;
      $("[data-preview]").srcObject = null;
    }
    countFrames();
    setStatus("等待对方加入…");
    signal({ kind: "hello" });
  });

  $("[data-toggle-mic]").addEventListener("click", function (event) {
    if (!state.stream) return;
    var tracks = state.stream.getAudioTracks();
    var on = tracks.length && !tracks[0].enabled;
    tracks.forEach(function (track) { track.enabled = on; });
    event.currentTarget.textContent = on ? "静音" : "取消静音";
  });
  $("[data-toggle-cam]").addEventListener("click", function (event) {
    if (!state.stream) return;
    var tracks = state.stream.getVideoTracks();
    var on = tracks.length && !tracks[0].enabled;
    tracks.forEach(function (track) { track.enabled = on; });
    event.currentTarget.textContent = on ? "关闭摄像头" : "打开摄像头";
  });
  $("[data-leave]").addEventListener("click", function () {
    signal({ kind: "bye" });
    state.left = true;
    closePc();
    if (state.stream) state.stream.getTracks().forEach(function (track) { track.stop(); });
    remote.srcObject = null;
    local.srcObject = null;
    setStatus("你已离开面试；刷新页面可重新加入");
    if (state.socket) state.socket.close();
  });
  remote.addEventListener("click", function () { remote.play().then(function () { setStatus(""); }, function () {}); });

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
  $("[data-chat-form]").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = $("[data-chat-text]");
    var text = input.value.trim();
    if (!text) return;
    send({ type: "chat", text: text });
    input.value = "";
  });
  var notesForm = $("[data-notes-form]");
  if (notesForm) {
    notesForm.addEventListener("submit", function (event) {
      event.preventDefault();
      show("[data-error]", "");
      $("[data-notes-status]").textContent = "保存中…";
      send({ type: "notes", notes: $("[data-notes]").value, result: $("[data-result]").value });
    });
  }

  openDevices();
  connect();
})();
