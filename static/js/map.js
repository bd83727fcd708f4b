/* Neighbourhood map: the posts of the list below, as clustered markers at their public
   positions, around the member's radius circle. Progressive enhancement: without
   JavaScript the map's room says so and the list is the page (without Leaflet the room
   is taken away); without
   tiles the markers and the list still work. Data comes from the page as JSON in the
   data-json attribute of #map-data (never executed), texts from data attributes, so
   they are translated with the templates. No inline script: the CSP forbids it. */
(function () {
  "use strict";

  function readData() {
    var block = document.getElementById("map-data");
    if (!block) return null;
    try {
      return JSON.parse(block.getAttribute("data-json"));
    } catch (e) {
      return null;
    }
  }

  function isPoint(p) {
    return p && isFinite(p.lat) && isFinite(p.lon) && Math.abs(p.lat) <= 90 && Math.abs(p.lon) <= 180;
  }

  // Popup content built with DOM nodes and textContent: titles are members' texts.
  function popupFor(m, distanceLabel) {
    var box = document.createElement("div");
    box.className = "map-popup";
    var kind = document.createElement("p");
    kind.className = "map-popup__type";
    kind.textContent = m.type_label;
    var title = document.createElement("p");
    var link = document.createElement("a");
    link.href = m.url;
    link.textContent = m.title;
    title.appendChild(link);
    box.appendChild(kind);
    box.appendChild(title);
    if (m.band) {
      var band = document.createElement("p");
      band.textContent = (distanceLabel ? distanceLabel + " " : "") + m.band;
      box.appendChild(band);
    }
    return box;
  }

  function setUp(box, data) {
    var mapEl = box.querySelector(".map");
    if (typeof window.L === "undefined" || !mapEl || !isPoint(data.home)) {
      box.hidden = true; // Leaflet did not load: the list remains
      return;
    }

    var home = [data.home.lat, data.home.lon];
    var map = L.map(mapEl, { scrollWheelZoom: false }).setView(home, 15);
    var tiles = L.tileLayer(box.dataset.tileUrl, {
      maxZoom: 19,
      attribution: box.dataset.attribution || ""
    });
    var note = box.querySelector("[data-tile-error]");
    tiles.on("tileerror", function () {
      if (note) note.hidden = false;
    });
    tiles.addTo(map);

    // My radius, around my own home: only I get this page with my home in it.
    var circle = L.circle(home, {
      radius: data.radius_m,
      color: "#0b4f6c",
      weight: 2,
      fillOpacity: 0.06,
      interactive: false
    }).addTo(map);
    L.circleMarker(home, { radius: 7, color: "#4a4a4a", fillOpacity: 0.6 })
      .addTo(map)
      .bindTooltip(box.dataset.homeLabel || "");
    if (box.dataset.radiusLabel) {
      var legend = L.control({ position: "bottomleft" });
      legend.onAdd = function () {
        var div = L.DomUtil.create("div", "map-legend");
        div.textContent = box.dataset.radiusLabel;
        return div;
      };
      legend.addTo(map);
    }
    map.fitBounds(circle.getBounds(), { padding: [10, 10] });

    var group = typeof L.markerClusterGroup === "function"
      ? L.markerClusterGroup({
        showCoverageOnHover: false,
        maxClusterRadius: 50,
        chunkedLoading: true // many markers: added in short slices, the page stays responsive
      })
      : L.featureGroup(); // the cluster plugin did not load: plain markers
    group.addTo(map);

    // The page's posts (the chips above filter them on the server); popups are built
    // when opened.
    var shown = [];
    var list = data.markers || [];
    for (var i = 0; i < list.length; i++) {
      var m = list[i];
      if (!isPoint(m)) continue;
      shown.push(L.marker([m.lat, m.lon], {
        title: m.label,
        alt: m.label,
        keyboard: true
      }).bindPopup(popupFor.bind(null, m, box.dataset.distanceLabel)));
    }
    if (group.addLayers) group.addLayers(shown);
    else for (var j = 0; j < shown.length; j++) group.addLayer(shown[j]);
    var count = box.querySelector("[data-map-count]");
    if (count) count.textContent = (box.dataset.shownText || "") + " " + shown.length;
  }

  // Leaflet and its cluster plugin, fetched when the map is wanted (same origin: the CSP
  // allows them), in order; ``done`` runs once all have loaded, or with none if one fails.
  function loadLeaflet(box, done) {
    var styles = (box.dataset.styles || "").split(" ");
    for (var i = 0; i < styles.length; i++) {
      if (!styles[i]) continue;
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = styles[i];
      document.head.appendChild(link);
    }
    var scripts = (box.dataset.scripts || "").split(" ").filter(Boolean);
    (function next(k) {
      if (k === scripts.length) return done();
      var script = document.createElement("script");
      script.src = scripts[k];
      script.onload = function () { next(k + 1); };
      script.onerror = function () { done(); };
      document.head.appendChild(script);
    })(0);
  }

  // A wide screen shows the map beside the list at once; a phone shows the list first and
  // the map on request (a map in the way of scrolling, and ~200 kB a member may not want).
  var WIDE = "(min-width: 48em)";

  function start() {
    var box = document.querySelector("[data-map]");
    var data = readData();
    if (!box) return;
    if (!data) {
      box.hidden = true; // nothing to draw: the list remains, no button that does nothing
      return;
    }
    var mapEl = box.querySelector(".map");
    var opener = box.querySelector("[data-map-open]");
    function draw(asked) {
      loadLeaflet(box, function () {
        setUp(box, data);
        if (asked && !box.hidden) mapEl.focus(); // the button is gone: focus goes to the map
      });
    }
    var wide = window.matchMedia(WIDE);
    if (wide.matches || !opener) {
      draw();
      return;
    }
    // Folded by the style sheet from the first paint, the button already shown; a phone
    // turned sideways past WIDE gets the map as a wide screen does.
    var opened = false;
    function open(asked) {
      if (opened) return;
      opened = true;
      opener.parentNode.hidden = true;
      box.classList.add("map-view--open");
      draw(asked);
    }
    opener.addEventListener("click", function () { open(true); });
    if (wide.addEventListener) {
      wide.addEventListener("change", function (event) { if (event.matches) open(false); });
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
