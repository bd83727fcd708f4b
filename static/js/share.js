/* "Partager" on a post's page (templates/macros/sharing.html): the phone's own share
   sheet where it has one (the Web Share API: messages, WhatsApp, e-mail...), otherwise
   "Copier le lien", which puts the link in the clipboard and says so. Without this
   script, or if copying fails, the link stays in its field, to copy by hand. */
(function () {
  "use strict";

  function setUp(box) {
    var url = box.dataset.shareUrl;
    var title = box.dataset.shareTitle;
    var buttons = box.querySelector("[data-share-buttons]");
    var native = box.querySelector("[data-share-native]");
    var copy = box.querySelector("[data-share-copy]");
    var field = box.querySelector("[data-share-field]");
    var input = box.querySelector("[data-share-input]");
    var status = box.querySelector("[data-share-status]");
    if (!buttons || !copy || !field || !input || !status) return;

    function say(text) {
      status.textContent = "";
      // A fresh text, so that screen readers announce it even when it is the same.
      window.setTimeout(function () { status.textContent = text; }, 50);
    }

    function showField() {
      field.hidden = false;
      input.focus();
      input.select();
    }

    if (navigator.share) {
      native.hidden = false;
      copy.hidden = true;
      native.addEventListener("click", function () {
        navigator.share({ title: title, url: url }).catch(function (error) {
          if (error && error.name === "AbortError") return; // the member changed their mind
          showField();
        });
      });
    }
    copy.addEventListener("click", function () {
      if (!navigator.clipboard || !window.isSecureContext) {
        showField();
        say(box.dataset.copyFailed);
        return;
      }
      navigator.clipboard.writeText(url).then(
        function () { say(box.dataset.copied); },
        function () { showField(); say(box.dataset.copyFailed); }
      );
    });
    buttons.hidden = false;
    field.hidden = true;
  }

  var boxes = document.querySelectorAll("[data-share]");
  for (var i = 0; i < boxes.length; i++) setUp(boxes[i]);
})();
