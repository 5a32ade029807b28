// Read a QR code with the device camera (jsQR) and submit it like a typed code: the events' check-in
// (tickets) and the welfare providers' till (vouchers) use the same markup, a form with a `code` field.
(function () {
  var button = document.getElementById("scan-button");
  var video = document.getElementById("scanner");
  var form = button && button.form;
  if (!button || !window.jsQR || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  button.hidden = false;
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });
  var lastCode = null;
  var lastSeen = 0;

  function scan() {
    if (video.readyState === video.HAVE_ENOUGH_DATA) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var found = jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      var now = Date.now();
      // The same code stays in view for a while: submit it once, and again only after it has left
      // the camera for a few seconds (a second scan on purpose), never while it is still held there.
      if (found) {
        if (found.data !== lastCode || now - lastSeen > 4000) {
          lastCode = found.data;
          form.elements.code.value = found.data;
          form.requestSubmit();
        }
        lastSeen = now;
      }
    }
    requestAnimationFrame(scan);
  }

  button.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      button.hidden = true;
      requestAnimationFrame(scan);
    }).catch(function () {
      // Refused, or no camera: say so next to the button; the code can still be typed.
      var note = document.createElement("p");
      note.className = "text-danger mt-2";
      note.setAttribute("role", "alert");
      note.textContent = button.dataset.cameraError || "Camera not available: type the code.";
      button.insertAdjacentElement("afterend", note);
      button.hidden = true;
      // The button had the focus: hand it to the field where the code is typed instead.
      form.elements.code.focus();
    });
  });
})();
