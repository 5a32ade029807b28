// Location picker (templates/includes/location_picker.html): a click on the map, a dragged marker or
// the "centre of the map" button fills the form's latitude and longitude; typing in them moves the
// marker. The coordinates are written with the decimal separator the fields read (data-decimal).
(function () {
  if (!window.L) return;
  document.querySelectorAll("[data-location-picker]").forEach(function (box) {
    var lat = document.getElementById(box.dataset.lat);
    var lon = document.getElementById(box.dataset.lon);
    if (!lat || !lon) return;
    var separator = box.dataset.decimal || ".";
    var status = box.querySelector("[data-location-picker-status]");
    box.hidden = false;

    function read(input) {
      var value = parseFloat(input.value.trim().replace(",", "."));
      return isNaN(value) ? null : value;
    }
    function format(value) {
      return value.toFixed(6).replace(".", separator);
    }

    var start = [read(lat), read(lon)];
    var known = start[0] !== null && start[1] !== null;
    var center = known ? start : [parseFloat(box.dataset.centerLat), parseFloat(box.dataset.centerLon)];
    var map = L.map(box.querySelector(".mire-map-picker"), { scrollWheelZoom: false }).setView(center, known ? 16 : 12);
    window.mireTiles(map);
    var marker = null;
    var writing = false; // our own change events: the point is on the map already, the map stays put

    function place(latlng) {
      if (marker) {
        marker.setLatLng(latlng);
        return;
      }
      marker = L.marker(latlng, { draggable: true, alt: box.dataset.markerLabel || "" }).addTo(map);
      marker.on("dragend", function () { choose(marker.getLatLng()); });
    }
    function choose(latlng) {
      latlng = latlng.wrap();
      place(latlng);
      lat.value = format(latlng.lat);
      lon.value = format(latlng.lng);
      writing = true;
      [lat, lon].forEach(function (input) { input.dispatchEvent(new Event("change", { bubbles: true })); });
      writing = false;
      status.textContent = status.dataset.template.replace("%s", lat.value).replace("%s", lon.value);
    }

    if (known) place(start);
    map.on("click", function (event) { choose(event.latlng); });
    box.querySelector("[data-location-picker-center]").addEventListener("click", function () { choose(map.getCenter()); });
    [lat, lon].forEach(function (input) {
      input.addEventListener("change", function () {
        if (writing) return;
        var a = read(lat), b = read(lon);
        status.textContent = ""; // typed by hand: the point picked before no longer holds
        if (a !== null && b !== null && Math.abs(a) <= 90 && Math.abs(b) <= 180) {
          place([a, b]);
          map.panTo([a, b]);
        }
      });
    });
  });
})();
