// The members map: OpenStreetMap tiles, one marker per organisation with a location.
(function () {
  var el = document.getElementById("members-map");
  if (!el || !window.L) return;
  var points = JSON.parse(document.getElementById("members-map-data").textContent);
  var map = L.map(el, { scrollWheelZoom: false }).setView([parseFloat(el.dataset.lat), parseFloat(el.dataset.lon)], 12);
  L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19,
    attribution: '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
  }).addTo(map);
  var bounds = [];
  points.forEach(function (p) {
    var link = document.createElement("a");
    link.href = p.url;
    link.textContent = p.name;
    L.marker([p.lat, p.lon], { title: p.name, alt: p.name }).addTo(map).bindPopup(link);
    bounds.push([p.lat, p.lon]);
  });
  if (bounds.length > 1) map.fitBounds(bounds, { padding: [24, 24] });
})();
