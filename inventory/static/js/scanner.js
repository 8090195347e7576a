/*
 * Inventory campaigns: read label QR codes with the phone's camera.
 *
 * Progressive enhancement only. The page works without this file: a person types the
 * asset tag (or pastes the scanned address) in the code field. When the browser offers a
 * camera, a "Scan with the camera" button appears; each code read fills the field and
 * sends the form. After the page comes back, scanning resumes by itself until the person
 * stops it.
 *
 * Codes are read by the browser's BarcodeDetector where it has one (Chrome on Android).
 * Elsewhere (Safari on iPhone and iPad, Firefox) the page loads the QR decoder vendored in
 * static/vendor/zxing-library (pure JavaScript, served by the app) and reads each frame
 * of the camera through a canvas. The decoder is only downloaded on those browsers.
 */
(function () {
  "use strict";

  var box = document.querySelector("[data-scanner]");
  if (!box || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
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
  // The last code sent: scanning resumes after each page, with that label most likely
  // still in front of the camera, and must not record it over and over.
  var LAST = "socle-scanner-last";
  // Frames are read at this width at most: enough for a label held in front of the
  // camera, and quick to decode on a phone.
  var MAX_WIDTH = 640;
  var stream = null;
  var detect = null; // function (video) -> Promise of the text read, or null
  var timer = null;

  function say(text) {
    if (status) {
      status.textContent = text || "";
    }
  }

  function nativeDetector() {
    if (!("BarcodeDetector" in window)) {
      return Promise.resolve(null);
    }
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") < 0) {
        return null;
      }
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      return function (source) {
        return detector.detect(source).then(function (codes) {
          var found = codes.find(function (c) { return c.rawValue; });
          return found ? found.rawValue : null;
        });
      };
    }).catch(function () { return null; });
  }

  function loadDecoder() {
    if (window.ZXing) {
      return Promise.resolve(window.ZXing);
    }
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = box.getAttribute("data-decoder");
      script.onload = function () {
        if (window.ZXing) {
          resolve(window.ZXing);
        } else {
          reject(new Error("decoder missing"));
        }
      };
      script.onerror = function () { reject(new Error("decoder not loaded")); };
      document.head.appendChild(script);
    });
  }

  function libraryDetector() {
    return loadDecoder().then(function (ZXing) {
      var reader = new ZXing.QRCodeReader();
      var canvas = document.createElement("canvas");
      var context = canvas.getContext("2d", { willReadFrequently: true });
      return function (source) {
        var width = source.videoWidth;
        var height = source.videoHeight;
        if (!width || !height) {
          return Promise.resolve(null);
        }
        var scale = Math.min(1, MAX_WIDTH / width);
        canvas.width = Math.round(width * scale);
        canvas.height = Math.round(height * scale);
        context.drawImage(source, 0, 0, canvas.width, canvas.height);
        var luminance = new ZXing.HTMLCanvasElementLuminanceSource(canvas);
        var bitmap = new ZXing.BinaryBitmap(new ZXing.HybridBinarizer(luminance));
        try {
          return Promise.resolve(reader.decode(bitmap).getText());
        } catch (e) {
          // Nothing readable in this frame (the decoder says so by throwing).
          return Promise.resolve(null);
        } finally {
          reader.reset();
        }
      };
    });
  }

  function chooseDetector() {
    if (detect) {
      return Promise.resolve(detect);
    }
    return nativeDetector().then(function (native) {
      return native || libraryDetector();
    }).then(function (found) {
      detect = found;
      return found;
    });
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
      window.sessionStorage.removeItem(LAST);
    }
  }

  function look() {
    if (!stream) {
      return;
    }
    detect(video).then(function (text) {
      if (text && text === window.sessionStorage.getItem(LAST)) {
        say(box.getAttribute("data-label-again"));
        timer = window.setTimeout(look, 250);
        return;
      }
      if (text) {
        input.value = text;
        window.sessionStorage.setItem(LAST, text);
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
    chooseDetector().then(function () {
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
      // No camera, no permission or no decoder: typing the code still works.
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
