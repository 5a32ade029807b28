// Members map: OpenStreetMap tiles, one marker per organisation with a location.
// The directory's map fetches its markers (data-url) for the current filters and refreshes them when
// htmx swaps the results; an organisation page embeds its single marker as JSON.
(function () {
  // htmx runs this file again when it puts back a page it kept (the script is in the body): the first
  // run handles that (below), a second would draw a second map over the first.
  if (!window.L || window.mireMembersMap) return;
  window.mireMembersMap = true;
  var map = null;
  var markers = null;
  var el = null;

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
    if (!map || !el.dataset.url) return;
    fetch(el.dataset.url + window.location.search, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { points: [] }; })
      .then(function (data) { show(data.points); });
  }

  function start() {
    el = document.getElementById("members-map");
    if (!el) return;
    // Going Back, htmx puts back a copy of the page holding a lifeless copy of the map (its tiles,
    // markers and zoom buttons as plain HTML): start again on an empty element.
    el.replaceChildren();
    map = L.map(el, { scrollWheelZoom: false }).setView([parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)], 12);
    window.mireTiles(map);
    markers = L.layerGroup().addTo(map);
    if (el.dataset.url) {
      load();
    } else {
      show(JSON.parse(document.getElementById("members-map-data").textContent));
    }
  }

  start();
  document.body.addEventListener("htmx:afterSettle", load);
  document.addEventListener("htmx:historyRestore", function () {
    if (map) map.off();
    // Once htmx has finished putting the page back (its swap settles after this event).
    setTimeout(start, 0);
  });
})();
