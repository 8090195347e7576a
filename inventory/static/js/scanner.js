/*
 * Inventory campaigns: read label QR codes with the phone's camera.
 *
 * Progressive enhancement only. The page works without this file: a person types the
 * asset tag (or pastes the scanned address) in the code field. When the browser offers
 * the BarcodeDetector API and a camera, a "Scan with the camera" button appears; each
 * code read fills the field and sends the form. After the page comes back, scanning
 * resumes by itself until the person stops it.
 */
(function () {
  "use strict";

  var box = document.querySelector("[data-scanner]");
  if (!box || !("BarcodeDetector" in window) || !navigator.mediaDevices ||
      !navigator.mediaDevices.getUserMedia) {
    return;
  }
  var form = document.getElementById(box.getAttribute("data-form"));
  var input = form && form.querySelector("input[name=code]");
  var toggle = box.querySelector("[data-scanner-toggle]");
  var status = box.querySelector("[data-scanner-status]");
  if (!form || !input || !toggle) {
    return;
  }
  // The camera's picture, only shown while scanning.
  var video = document.createElement("video");
  video.muted = true;
  video.setAttribute("playsinline", "");
  video.hidden = true;
  video.className = "scanner-video";
  toggle.insertAdjacentElement("afterend", video);
  var KEY = "socle-scanner-on";
  var stream = null;
  var detector = null;
  var timer = null;

  function say(text) {
    if (status) {
      status.textContent = text || "";
    }
  }

  function stop(remember) {
    if (timer) {
      window.clearTimeout(timer);
      timer = null;
    }
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
    }
    video.hidden = true;
    toggle.textContent = toggle.getAttribute("data-label-start");
    if (!remember) {
      window.sessionStorage.removeItem(KEY);
    }
  }

  function look() {
    if (!stream) {
      return;
    }
    detector.detect(video).then(function (codes) {
      var found = codes.find(function (c) { return c.rawValue; });
      if (found) {
        input.value = found.rawValue;
        stop(true);
        if (form.requestSubmit) {
          form.requestSubmit();
        } else {
          form.submit();
        }
        return;
      }
      timer = window.setTimeout(look, 250);
    }).catch(function () {
      timer = window.setTimeout(look, 500);
    });
  }

  function start() {
    window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") < 0) {
        throw new Error("qr_code unsupported");
      }
      detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return navigator.mediaDevices.getUserMedia({
        video: { facingMode: "environment" },
        audio: false,
      });
    }).then(function (media) {
      stream = media;
      video.srcObject = media;
      video.hidden = false;
      toggle.textContent = toggle.getAttribute("data-label-stop");
      window.sessionStorage.setItem(KEY, "1");
      say("");
      return video.play();
    }).then(look).catch(function () {
      stop(false);
      box.hidden = true;
      input.focus();
    });
  }

  box.hidden = false;
  toggle.addEventListener("click", function () {
    if (stream) {
      stop(false);
    } else {
      start();
    }
  });
  if (window.sessionStorage.getItem(KEY) === "1") {
    start();
  }
})();
