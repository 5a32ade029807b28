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
  var lastAt = 0;

  function scan() {
    if (video.readyState === video.HAVE_ENOUGH_DATA) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var found = jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      var now = Date.now();
      // The same ticket stays in view for a while: submit it once every few seconds at most.
      if (found && (found.data !== lastCode || now - lastAt > 4000)) {
        lastCode = found.data;
        lastAt = now;
        form.elements.code.value = found.data;
        form.requestSubmit();
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
    });
  });
})();
