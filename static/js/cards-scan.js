// Scan a QR code with the phone camera (getUserMedia + jsQR, served from static/vendor — no
// CDN), or read it from a photo; the decoded text goes into the code field and the form is
// submitted. Used by the card partner's verify page and by the event door's check-in page
// (data-scan-continue: the camera stays on and the next code is read after the answer, the
// same code is not sent twice within a few seconds). Typing or pasting the code keeps working
// whatever the browser allows.
(function () {
  "use strict";
  var root = document.querySelector("[data-scan]");
  if (!root || typeof window.jsQR !== "function") return;
  var field = document.getElementById(root.getAttribute("data-scan-field"));
  var form = field ? field.form : null;
  var start = root.querySelector("[data-scan-start]");
  var stop = root.querySelector("[data-scan-stop]");
  var video = root.querySelector("[data-scan-video]");
  var photo = root.querySelector("[data-scan-photo]");
  var status = root.querySelector("[data-scan-status]");
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var stream = null;
  var timer = null;

  function say(text) {
    if (status) status.textContent = text;
  }

  // One frame (a video frame or a photo) -> the QR text, or null. Large frames are scaled
  // down to at most 1024 px on the long side: enough for a phone-screen QR, and fast.
  function decode(source, width, height) {
    if (!width || !height) return null;
    var scale = Math.min(1, 1024 / Math.max(width, height));
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    context.drawImage(source, 0, 0, canvas.width, canvas.height);
    var image = context.getImageData(0, 0, canvas.width, canvas.height);
    var found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" });
    return found && found.data ? found.data : null;
  }
  window.qingheDecodeQr = decode;

  var continuous = root.hasAttribute("data-scan-continue");
  var lastText = "";
  var lastAt = 0;

  function found(text) {
    if (continuous && stream) {
      // the door: keep the camera on; the same code seen again within 4 s is the same scan
      var now = Date.now();
      if (text === lastText && now - lastAt < 4000) return;
      lastText = text;
      lastAt = now;
    } else {
      halt();
    }
    field.value = text;
    say("已识别二维码，正在核验…");
    root.setAttribute("data-scan-result", "found");
    // requestSubmit fires the submit event, so a page's own handler (the door's offline
    // check) sees the scan as it sees a typed code.
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  function halt() {
    if (timer) window.clearInterval(timer);
    timer = null;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
    stop.hidden = true;
    start.hidden = false;
  }

  function tick() {
    if (video.readyState < 2) return;
    var text = decode(video, video.videoWidth, video.videoHeight);
    if (text) found(text);
  }

  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    start.hidden = true;
    say("此浏览器无法使用摄像头，请拍照识别或粘贴二维码内容。");
  } else {
    start.addEventListener("click", function () {
      say("正在打开摄像头…");
      navigator.mediaDevices
        .getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (s) {
          stream = s;
          video.srcObject = s;
          video.hidden = false;
          stop.hidden = false;
          start.hidden = true;
          return video.play();
        })
        .then(function () {
          say(continuous ? "请将二维码对准取景框，可连续扫码" : "请将持卡人的电子卡二维码对准取景框");
          timer = window.setInterval(tick, 200);
        })
        .catch(function (error) {
          halt();
          var denied = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
          say(denied ? "未获得摄像头权限，请拍照识别或粘贴二维码内容。" : "无法打开摄像头，请拍照识别或粘贴二维码内容。");
        });
    });
    stop.addEventListener("click", function () {
      halt();
      say("已关闭摄像头");
    });
  }

  if (photo) {
    photo.addEventListener("change", function () {
      var file = photo.files && photo.files[0];
      if (!file) return;
      // A data: URL, not a blob: one — the page's CSP allows images from 'self' and data:.
      var reader = new FileReader();
      reader.onload = function () {
        var img = new Image();
        img.onload = function () {
          var text = decode(img, img.naturalWidth, img.naturalHeight);
          if (text) found(text); else say("照片中没有识别到二维码，请重拍或粘贴二维码内容。");
        };
        img.onerror = function () { say("无法读取这张照片，请重拍或粘贴二维码内容。"); };
        img.src = reader.result;
      };
      reader.readAsDataURL(file);
    });
  }
})();
