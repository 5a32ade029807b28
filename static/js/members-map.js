// Members map: OpenStreetMap tiles, one marker per organisation with a location.
// The directory's map fetches its markers (data-url) for the current filters and refreshes them when
// htmx swaps the results; an organisation page embeds its single marker as JSON.
(function () {
  var el = document.getElementById("members-map");
  if (!el || !window.L) return;
  var map = L.map(el, { scrollWheelZoom: false }).setView([parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)], 12);
  window.mireTiles(map);
  var markers = L.layerGroup().addTo(map);

  function show(points) {
    markers.clearLayers();
    var bounds = [];
    points.forEach(function (p) {
      var link = document.createElement("a");
      link.href = p.url;
      link.textContent = p.name;
      L.marker([p.lat, p.lon], { title: p.name, alt: p.name }).addTo(markers).bindPopup(link);
      bounds.push([p.lat, p.lon]);
    });
    if (bounds.length > 1) map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
  }

  function load() {
    fetch(el.dataset.url + window.location.search, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { points: [] }; })
      .then(function (data) { show(data.points); });
  }

  if (el.dataset.url) {
    load();
    document.body.addEventListener("htmx:afterSettle", load);
  } else {
    show(JSON.parse(document.getElementById("members-map-data").textContent));
  }
})();
