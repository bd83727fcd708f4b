/* Room left in a long text, shown only near the limit: nobody has to count letters
   while there is plenty of room. The field's maxlength still stops the typing, with or
   without this script. Loaded by every page (templates/base.html): it does nothing
   where there is no counter. */
(function () {
  "use strict";

  var NEAR = 0.85; // shown from 85 % of the limit on

  function setUp(counter) {
    if (counter.dataset.ready) return;
    var field = document.getElementById(counter.dataset.counterFor);
    var limit = parseInt(counter.dataset.limit, 10);
    if (!field || !(limit > 0)) return;
    counter.dataset.ready = "1";
    var described = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    var french = (document.documentElement.lang || "fr").slice(0, 2) === "fr";

    function update() {
      var left = limit - field.value.length;
      if (field.value.length < limit * NEAR) {
        counter.hidden = true;
        counter.textContent = "";
        return;
      }
      var one = french ? left < 2 : left === 1;
      counter.textContent = left <= 0
        ? counter.dataset.none
        : (one ? counter.dataset.one : counter.dataset.many).replace("{n}", String(left));
      counter.hidden = false;
      if (described.indexOf(counter.id) < 0) {
        described.push(counter.id);
        field.setAttribute("aria-describedby", described.join(" "));
      }
    }

    field.addEventListener("input", update);
    update();
  }

  function start() {
    var counters = document.querySelectorAll("[data-counter-for]");
    for (var i = 0; i < counters.length; i++) setUp(counters[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
