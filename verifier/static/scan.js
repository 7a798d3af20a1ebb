// Scanning a credential's QR code with the camera, on the verifier's page. Progressive enhancement only: the
// form works without it, and the button stays hidden where there is no camera API or no decoder. Nothing leaves
// the browser but the decoded text, sent by the page's own form; frames are read in memory and never stored.
//
// Markup it looks for:
//   <button type="button" data-scan-start data-label-stop="…" hidden>…</button>
//   <video data-scan-video hidden playsinline muted></video>
//   <p data-scan-status aria-live="polite" data-msg-scanning="…" data-msg-denied="…" data-msg-nocamera="…"></p>
//   <form data-verify-form> … <textarea name="credential"> … </form>
(function () {
  "use strict";

  var FRAME_INTERVAL_MS = 150; // about 7 decodes a second: quick to answer, easy on a phone's battery
  var CANVAS_WIDTH = 640; // jsQR reads a downscaled frame: a QR filling part of the view still has enough pixels

  function setUp() {
    var button = document.querySelector("[data-scan-start]");
    var video = document.querySelector("[data-scan-video]");
    var status = document.querySelector("[data-scan-status]");
    var form = document.querySelector("form[data-verify-form]");
    var field = form && form.querySelector("textarea[name=credential]");
    var camera = navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
    var canDecode = "BarcodeDetector" in window || typeof window.jsQR === "function";
    if (!button || !video || !status || !field || !camera || !canDecode) return;

    var startLabel = button.textContent;
    var stopLabel = button.getAttribute("data-label-stop") || startLabel;
    var stream = null;
    var timer = null;
    var decode = null;
    var session = 0; // each start and stop begins a new one: a camera that opens after a stop is closed at once

    function say(name) {
      status.textContent = name ? status.getAttribute("data-msg-" + name) || "" : "";
    }

    function stop() {
      session += 1;
      if (timer !== null) window.clearTimeout(timer);
      timer = null;
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
      video.srcObject = null;
      video.hidden = true;
      button.textContent = startLabel;
      button.setAttribute("aria-pressed", "false");
    }

    function found(text) {
      stop();
      say("");
      field.value = text;
      if (typeof form.requestSubmit === "function") form.requestSubmit();
      else form.submit();
    }

    function tick() {
      timer = null;
      if (!stream) return;
      Promise.resolve().then(decode).then(function (text) {
        if (!stream) return;
        if (text) found(text);
        else timer = window.setTimeout(tick, FRAME_INTERVAL_MS);
      }, function () {
        if (stream) timer = window.setTimeout(tick, FRAME_INTERVAL_MS);
      });
    }

    function start() {
      var mine = ++session;
      button.textContent = stopLabel;
      button.setAttribute("aria-pressed", "true"); // a second click stops, even while the camera is opening
      say("scanning");
      chooseDecoder(video).then(function (chosen) {
        decode = chosen;
        return navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
      }).then(function (opened) {
        if (mine !== session) {
          opened.getTracks().forEach(function (track) { track.stop(); });
          return;
        }
        stream = opened;
        video.srcObject = opened;
        video.hidden = false;
        return video.play();
      }).then(tick, function (error) {
        if (mine !== session) return;
        stop();
        var denied = error && (error.name === "NotAllowedError" || error.name === "SecurityError");
        say(denied ? "denied" : "nocamera");
      });
    }

    button.hidden = false;
    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", function () {
      if (button.getAttribute("aria-pressed") === "true") {
        stop();
        say("");
      } else {
        start();
      }
    });
    window.addEventListener("pagehide", stop);
  }

  // The browser's own decoder where it has one for QR codes, else jsQR on a canvas; either answers a promise of
  // the first code's text, or of null when the frame shows none.
  function chooseDecoder(video) {
    var fallback = function () { return jsQRDecoder(video); };
    if (!("BarcodeDetector" in window)) return Promise.resolve().then(fallback);
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") < 0) return fallback();
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return function () {
        return detector.detect(video).then(function (codes) {
          return codes.length ? codes[0].rawValue : null;
        });
      };
    }, fallback);
  }

  function jsQRDecoder(video) {
    if (typeof window.jsQR !== "function") throw new Error("no QR decoder");
    var canvas = document.createElement("canvas");
    var context = canvas.getContext("2d", { willReadFrequently: true });
    return function () {
      if (!video.videoWidth) return Promise.resolve(null);
      var scale = Math.min(1, CANVAS_WIDTH / video.videoWidth);
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var frame = context.getImageData(0, 0, canvas.width, canvas.height);
      // Printed and on-screen badge codes are dark on light: trying inverted frames too would halve the rate.
      var code = window.jsQR(frame.data, frame.width, frame.height, { inversionAttempts: "dontInvert" });
      return Promise.resolve(code && code.data ? code.data : null);
    };
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
