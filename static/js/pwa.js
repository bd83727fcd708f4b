/* The installed app (peuplade/pwa, docs/pwa.md): registers the service worker, one
   script for every page and language (a new address would install it again). Loaded
   by every page (templates/base.html), after the page is drawn. Without service
   workers (an old browser, a private window that refuses them) the site works as
   before. */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !("serviceWorker" in navigator)) return;
  var worker = script.dataset.worker;
  var scope = script.dataset.scope;

  window.addEventListener("load", function () {
    navigator.serviceWorker.register(worker, { scope: scope }).catch(function () {
      /* Not installed: the pages simply need the network, as without a worker. */
    });
  });
})();
