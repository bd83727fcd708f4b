/* Phones: the main navigation folds behind a "Menu" button (progressive enhancement:
   without JavaScript, or on wider screens, the navigation is simply shown). */
(function () {
  "use strict";
  var nav = document.getElementById("main-nav");
  if (!nav) {
    return;
  }
  var button = document.createElement("button");
  button.type = "button";
  button.className = "button button--small menu-toggle";
  button.textContent = nav.getAttribute("data-menu-label");
  button.setAttribute("aria-controls", "main-nav");
  button.setAttribute("aria-expanded", "false");
  nav.parentNode.insertBefore(button, nav);
  nav.classList.add("main-nav--folded");
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    nav.classList.toggle("main-nav--folded", !open);
  });
})();
