/* "Imprimer" buttons: hidden without JavaScript (the browser's own Print command works
   anyway), shown and wired to window.print() with it. */
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button[data-print]");
  Array.prototype.forEach.call(buttons, function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
