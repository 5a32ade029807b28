// "Use my position" in the catalogue: fills the latitude and longitude fields and submits the search.
// Without geolocation (or JavaScript) the fields can still be typed in. The button's data-* attributes
// hold the messages in the page's language; #position-status (role="status") reads them out.
(function () {
  var button = document.getElementById("use-my-position");
  if (!button || !navigator.geolocation) return;
  var status = document.getElementById("position-status");
  button.hidden = false;
  function say(text) { if (status) status.textContent = text; }
  button.addEventListener("click", function () {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    say(button.dataset.busy);
    navigator.geolocation.getCurrentPosition(function (position) {
      var form = button.closest("form");
      form.querySelector("[name=lat]").value = position.coords.latitude.toFixed(6);
      form.querySelector("[name=lon]").value = position.coords.longitude.toFixed(6);
      say("");
      button.disabled = false;
      button.removeAttribute("aria-busy");
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    }, function (error) {
      // Refused, unavailable or too slow: say so, and leave the typed fields as the way on.
      button.disabled = false;
      button.removeAttribute("aria-busy");
      say(error.code === error.PERMISSION_DENIED ? button.dataset.denied : button.dataset.failed);
    }, {timeout: 15000, maximumAge: 300000});
  });
})();
