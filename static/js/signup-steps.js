/* Sign-up in short steps: the sections of a form marked data-signup-steps are shown one
   at a time, with "Suivant" and "Retour" buttons. Progressive enhancement: without
   JavaScript every step is on the page, one after the other, and the form is sent as
   one. "Suivant" first checks the step's fields with the server's own messages (data-*
   attributes written by the page); the server checks everything again. After an error
   the page says which step to open (data-open-step). */
(function () {
  "use strict";
  var form = document.querySelector("form[data-signup-steps]");
  if (!form) return;
  var steps = Array.prototype.slice.call(form.querySelectorAll("[data-step]"));
  if (steps.length < 2) return;
  var prefix = form.getAttribute("data-error-prefix") || "";
  var current = 0;
  var initial = new Map(); // field -> its value when the page came (kept in memory only)
  var TYPED = "input:not([type=hidden]):not([type=radio]):not([type=checkbox]), textarea";

  steps.forEach(function (step) {
    var nav = step.querySelector("[data-step-nav]");
    if (nav) nav.hidden = false;
    // What the page came with: a server error stays until its field is changed.
    Array.prototype.forEach.call(step.querySelectorAll("input, textarea"), function (input) {
      initial.set(input, input.value);
    });
  });
  form.classList.add("signup--steps");

  // The map folded behind "Ou placer mon domicile sur la carte": offered once the map is
  // there (home-picker.js ran first), and measured again when it unfolds.
  Array.prototype.forEach.call(form.querySelectorAll("[data-home-picker-fold]"), function (fold) {
    var picker = fold.querySelector("[data-home-picker]");
    if (!picker || picker.hidden) return;
    fold.hidden = false;
    fold.addEventListener("toggle", function () {
      window.dispatchEvent(new Event("resize"));
    });
  });

  function show(index, moveFocus) {
    current = Math.max(0, Math.min(index, steps.length - 1));
    steps.forEach(function (step, i) {
      step.hidden = i !== current;
    });
    // A map drawn while its step was hidden measures itself again (Leaflet listens).
    window.dispatchEvent(new Event("resize"));
    if (moveFocus) {
      var title = steps[current].querySelector(".signup-step__title");
      form.scrollIntoView({ block: "start" });
      if (title) title.focus({ preventScroll: true });
    }
  }

  function stepOf(element) {
    for (var i = 0; i < steps.length; i++) {
      if (steps[i].contains(element)) return i;
    }
    return -1;
  }

  // --- errors written next to a field, as the server writes them -------------------

  function container(input) {
    return input.closest(".field") || input.parentNode;
  }

  function clearError(input) {
    var box = container(input);
    var old = document.getElementById(input.id + "-error");
    if (old) old.parentNode.removeChild(old);
    box.classList.remove("field--error");
    input.removeAttribute("aria-invalid");
    var described = (input.getAttribute("aria-describedby") || "")
      .split(" ")
      .filter(function (id) { return id && id !== input.id + "-error"; });
    if (described.length) input.setAttribute("aria-describedby", described.join(" "));
    else input.removeAttribute("aria-describedby");
  }

  function showError(input, message) {
    clearError(input);
    var box = container(input);
    var error = document.createElement("p");
    error.className = "field-error";
    error.id = input.id + "-error";
    var hidden = document.createElement("span");
    hidden.className = "visually-hidden";
    hidden.textContent = prefix;
    error.appendChild(hidden);
    error.appendChild(document.createTextNode(" " + message));
    box.insertBefore(error, input);
    box.classList.add("field--error");
    input.setAttribute("aria-invalid", "true");
    var described = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", (described ? described + " " : "") + error.id);
  }

  // --- the checks ---------------------------------------------------------------------

  function problem(input) {
    var value = input.value;
    var typed = value.trim();
    if (input.hasAttribute("data-required") && !typed) {
      return input.getAttribute("data-required");
    }
    if (input.hasAttribute("data-invalid") && !/^[^\s@]+@[^\s@]+$/.test(typed)) {
      return input.getAttribute("data-invalid");
    }
    var minimum = parseInt(input.getAttribute("data-min-length"), 10);
    if (minimum && Array.from(value).length < minimum) {
      return input.getAttribute("data-too-short");
    }
    var other = input.getAttribute("data-same-as");
    if (other && document.getElementById(other) && document.getElementById(other).value !== value) {
      return input.getAttribute("data-different");
    }
    return null;
  }

  function changed(input) {
    return input.value !== initial.get(input);
  }

  /* A home is an address or a point on the map: its error is shown at the address. */
  function homeProblem(step) {
    var missing = step.getAttribute("data-location-missing");
    var address = document.getElementById("address");
    var lat = document.getElementById("home-lat");
    if (!missing || !address) return null;
    if (!address.value.trim() && !(lat && lat.value)) return [address, missing];
    if (changed(address) || (lat && changed(lat))) clearError(address);
    return null;
  }

  /* True when the step may be left; else the errors are shown and the first field in
     error has the focus. */
  function check(step) {
    var wrong = [];
    Array.prototype.forEach.call(step.querySelectorAll(TYPED), function (input) {
      var message = problem(input);
      if (message) {
        wrong.push([input, message]);
      } else if (changed(input) && input.id !== "address") {
        clearError(input);
      }
    });
    var home = homeProblem(step);
    if (home) wrong.unshift(home);
    wrong.forEach(function (pair) { showError(pair[0], pair[1]); });
    if (wrong.length) {
      wrong[0][0].focus();
      return false;
    }
    return true;
  }

  function next() {
    if (check(steps[current])) show(current + 1, true);
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) return;
    if (button.hasAttribute("data-step-next")) {
      next();
    } else if (button.hasAttribute("data-step-back")) {
      show(current - 1, true);
    }
  });

  // Enter in a field of an early step goes on to the next step, not to the server.
  form.addEventListener("submit", function (event) {
    if (current < steps.length - 1) {
      event.preventDefault();
      next();
    }
  });

  // The error summary's links lead to fields of any step: open it first.
  document.addEventListener("click", function (event) {
    var link = event.target.closest(".error-summary a[href^='#']");
    if (!link) return;
    var target = document.getElementById(link.getAttribute("href").slice(1));
    var index = target ? stepOf(target) : -1;
    if (index < 0) return;
    event.preventDefault();
    show(index, false);
    var details = target.closest("details");
    if (details) details.open = true;
    target.scrollIntoView({ block: "center" });
    target.focus();
  });

  var opened = parseInt(form.getAttribute("data-open-step"), 10) || 1;
  show(opened - 1, false);
})();
