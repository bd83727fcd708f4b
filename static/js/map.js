/* Neighbourhood map: the posts of the list below, as clustered markers at their public
   positions, around the member's radius circle. Progressive enhancement: without
   JavaScript (or without Leaflet) the map stays hidden and the list is the page; without
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

  function chosenTypes(form) {
    var chosen = [];
    var boxes = form ? form.querySelectorAll('input[type="checkbox"][name="type"]') : [];
    for (var i = 0; i < boxes.length; i++) if (boxes[i].checked) chosen.push(boxes[i].value);
    return chosen;
  }

  function allTypes(form) {
    var all = [];
    var boxes = form.querySelectorAll('input[type="checkbox"][name="type"]');
    for (var i = 0; i < boxes.length; i++) all.push(boxes[i].value);
    return all;
  }

  function setUp(box, data) {
    if (typeof window.L === "undefined") return; // Leaflet did not load: the list remains
    var mapEl = box.querySelector(".map");
    if (!mapEl || !isPoint(data.home)) return;
    box.hidden = false;

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
      ? L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 50 })
      : L.featureGroup(); // the cluster plugin did not load: plain markers
    group.addTo(map);

    var markers = [];
    var list = data.markers || [];
    for (var i = 0; i < list.length; i++) {
      var m = list[i];
      if (!isPoint(m)) continue;
      var marker = L.marker([m.lat, m.lon], {
        title: m.label,
        alt: m.label,
        keyboard: true
      }).bindPopup(popupFor(m, box.dataset.distanceLabel));
      markers.push({ type: m.type, marker: marker });
    }

    var count = box.querySelector("[data-map-count]");
    var none = document.querySelector("[data-map-none]");
    var rows = document.querySelectorAll(".map-list__items > li[data-type]");

    function show(types) {
      var all = types.length === 0;
      var shown = [];
      for (var i = 0; i < markers.length; i++) {
        if (all || types.indexOf(markers[i].type) !== -1) shown.push(markers[i].marker);
      }
      group.clearLayers();
      if (group.addLayers) group.addLayers(shown);
      else for (var j = 0; j < shown.length; j++) group.addLayer(shown[j]);
      var visible = 0;
      for (var k = 0; k < rows.length; k++) {
        var keep = all || types.indexOf(rows[k].dataset.type) !== -1;
        rows[k].hidden = !keep;
        if (keep) visible++;
      }
      if (none) none.hidden = !(rows.length > 0 && visible === 0);
      if (count) count.textContent = (box.dataset.shownText || "") + " " + shown.length;
    }

    var form = document.querySelector("[data-map-filter]");
    var loaded = data.types || [];
    show(chosenTypes(form));
    if (form) {
      form.addEventListener("change", function () {
        var types = chosenTypes(form);
        // A type the server did not send (the page was filtered): ask the server.
        var wanted = types.length ? types : allTypes(form);
        for (var i = 0; i < wanted.length; i++) {
          if (loaded.indexOf(wanted[i]) === -1) {
            form.submit();
            return;
          }
        }
        show(types);
        if (window.history && window.history.replaceState) {
          var query = types.map(function (t) { return "type=" + encodeURIComponent(t); }).join("&");
          window.history.replaceState(null, "", form.getAttribute("action") + (query ? "?" + query : ""));
        }
      });
    }
  }

  function start() {
    var box = document.querySelector("[data-map]");
    var data = readData();
    if (box && data) setUp(box, data);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
