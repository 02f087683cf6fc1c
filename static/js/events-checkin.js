// The check-in page: scan a student's QR with the phone's camera where the browser can read
// QR codes (BarcodeDetector). Elsewhere the text field takes a scanner gun's input as before.
(function () {
  "use strict";
  var box = document.querySelector("[data-camera]");
  var form = document.querySelector("form[data-checkin]");
  if (!box || !form || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  var start = box.querySelector("[data-camera-start]");
  var video = box.querySelector("[data-camera-video]");
  var field = form.querySelector("input[name=code]");
  box.classList.remove("d-none");

  function open() {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      window.sessionStorage.setItem("qh-checkin-camera", "1");
      video.srcObject = stream;
      video.classList.remove("d-none");
      video.play();
      start.disabled = true;
      function scan() {
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            field.value = codes[0].rawValue;
            stream.getTracks().forEach(function (track) { track.stop(); });
            // requestSubmit fires the submit event, so the scan goes through
            // events-checkin-offline.js (online post, or the check on the phone offline).
            if (form.requestSubmit) form.requestSubmit(); else form.submit();
            return;
          }
          window.requestAnimationFrame(scan);
        }).catch(function () { window.requestAnimationFrame(scan); });
      }
      scan();
    }).catch(function () {
      window.sessionStorage.removeItem("qh-checkin-camera");
      start.textContent = "无法打开摄像头，请用扫码枪或粘贴签到码";
    });
  }

  start.addEventListener("click", open);
  // The page no longer reloads after a scan (events-checkin-offline.js answers in place):
  // open the camera again for the next one.
  document.addEventListener("qh:checkin-done", function () {
    if (window.sessionStorage.getItem("qh-checkin-camera") === "1") {
      start.disabled = false;
      open();
    }
  });
  // After a scan the page reloads with the result: keep scanning without another tap.
  if (window.sessionStorage.getItem("qh-checkin-camera") === "1") open();
})();
