/* Home picker: click or drag a marker on a Leaflet map to fill the hidden lat/lon
   fields. Progressive enhancement: without JavaScript the picker stays hidden and
   the address field works alone. Texts come from the page (data attributes), so
   they can be translated with the rest of the templates. */
(function () {
  "use strict";

  function parsePair(text) {
    if (!text) return null;
    var parts = String(text).split(",");
    if (parts.length !== 2) return null;
    var lat = parseFloat(parts[0]);
    var lon = parseFloat(parts[1]);
    if (!isFinite(lat) || !isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
    return [lat, lon];
  }

  function setUp(box) {
    if (typeof window.L === "undefined") return; // Leaflet did not load: keep the address only
    var latInput = document.getElementById(box.dataset.latInput);
    var lonInput = document.getElementById(box.dataset.lonInput);
    var mapEl = box.querySelector(".home-picker__map");
    var status = box.querySelector(".home-picker__status");
    var clear = box.querySelector(".home-picker__clear");
    if (!latInput || !lonInput || !mapEl) return;

    box.hidden = false;
    var picked = parsePair(latInput.value && lonInput.value ? latInput.value + "," + lonInput.value : "");
    var current = parsePair(box.dataset.current); // only present on the member's own home form
    var centre = picked || current || parsePair(box.dataset.centre) || [48.8845, 2.3215];

    // Zoom 15 (~1 km across): the tile server is not handed a close-up of the home.
    var map = L.map(mapEl, { scrollWheelZoom: false }).setView(centre, 15);
    L.tileLayer(box.dataset.tileUrl, {
      maxZoom: 19,
      attribution: box.dataset.attribution || ""
    }).addTo(map);

    // A map folded in a <details> (a post's venue) is drawn when it is unfolded.
    var folded = mapEl.closest ? mapEl.closest("details") : null;
    if (folded) {
      folded.addEventListener("toggle", function () {
        if (folded.open) map.invalidateSize();
      });
    }

    var marker = null;
    if (current && !picked) {
      // The stored home, shown greyed until the member moves it.
      L.circleMarker(current, { radius: 8, color: "#4a4a4a", fillOpacity: 0.5 })
        .addTo(map)
        .bindTooltip(box.dataset.currentLabel || "");
    }

    function describe(text) {
      if (status) status.textContent = text;
    }

    function place(latlng) {
      var lat = latlng.lat.toFixed(6);
      var lon = L.Util.wrapNum(latlng.lng, [-180, 180], true).toFixed(6);
      latInput.value = lat;
      lonInput.value = lon;
      if (!marker) {
        marker = L.marker(latlng, { draggable: true, keyboard: true }).addTo(map);
        marker.on("dragend", function () { place(marker.getLatLng()); });
      } else {
        marker.setLatLng(latlng);
      }
      if (clear) clear.hidden = false;
      describe(box.dataset.placedText || "");
    }

    function unplace() {
      latInput.value = "";
      lonInput.value = "";
      if (marker) {
        map.removeLayer(marker);
        marker = null;
      }
      if (clear) clear.hidden = true;
      describe(box.dataset.clearedText || "");
    }

    if (picked) place(L.latLng(picked[0], picked[1]));
    map.on("click", function (event) { place(event.latlng); });
    if (clear) clear.addEventListener("click", unplace);

    // "Use my current location": asked only when the member presses the button; the
    // browser asks for permission, and the point can still be moved before sending.
    var locate = box.querySelector(".home-picker__locate");
    if (locate && navigator.geolocation && window.isSecureContext) {
      locate.hidden = false;
      locate.addEventListener("click", function () {
        describe(box.dataset.locatingText || "");
        navigator.geolocation.getCurrentPosition(
          function (position) {
            var here = L.latLng(position.coords.latitude, position.coords.longitude);
            place(here);
            map.setView(here, 17);
            describe(box.dataset.locatedText || "");
          },
          function () { describe(box.dataset.locateFailedText || ""); },
          { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
        );
      });
    }
  }

  function start() {
    var boxes = document.querySelectorAll("[data-home-picker]");
    for (var i = 0; i < boxes.length; i++) setUp(boxes[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
