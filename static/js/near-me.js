// "Use my position" in the catalogue: fills the latitude and longitude fields and submits the search.
// Without geolocation (or JavaScript) the fields can still be typed in.
(function () {
  var button = document.getElementById("use-my-position");
  if (!button || !navigator.geolocation) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (position) {
      var form = button.closest("form");
      form.querySelector("[name=lat]").value = position.coords.latitude.toFixed(6);
      form.querySelector("[name=lon]").value = position.coords.longitude.toFixed(6);
      if (form.requestSubmit) form.requestSubmit(); else form.submit();
    });
  });
})();
