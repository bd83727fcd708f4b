/* Places searched as you type, nearest first (ARIA combobox). Progressive enhancement:
   without JavaScript the form's own select lists the nearest public places. With it,
   the select is hidden but stays the value sent: a text box asks the server
   (/places/search, public places only, ordered from the member's PUBLIC position) and
   the place chosen is set on the select. The select's other choices ("Près de chez
   moi", "Ne pas changer") are offered first. Texts come from the page (data
   attributes), so they are translated with the templates. */
(function () {
  "use strict";

  var DELAY_MS = 200;

  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function setUp(box) {
    if (box.dataset.ready) return;
    var select = box.querySelector("select");
    if (!select || !window.fetch) return;
    box.dataset.ready = "1";
    var base = select.id + "-search";
    var label = box.querySelector("label[for='" + select.id + "']");

    // The select's own choices that are not places ("", "keep"): always offered first.
    // A "" choice that only asks to choose ("Choisissez un lieu") is a placeholder.
    var prompt = "emptyIsPrompt" in box.dataset;
    var fixed = [];
    for (var i = 0; i < select.options.length; i++) {
      var opt = select.options[i];
      if (prompt && opt.value === "") continue;
      if (!/^\d+$/.test(opt.value)) fixed.push({ id: opt.value, label: opt.text, fixed: true });
    }

    var input = document.createElement("input");
    input.type = "text";
    input.id = base;
    input.className = "place-search__input";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", base + "-list");
    input.setAttribute("autocomplete", "off");
    input.setAttribute("spellcheck", "false");
    var described = [base + "-hint"];
    var oldDescribed = select.getAttribute("aria-describedby");
    if (oldDescribed) described.push(oldDescribed);
    input.setAttribute("aria-describedby", described.join(" "));
    if (select.getAttribute("aria-invalid")) input.setAttribute("aria-invalid", "true");
    var chosen = select.options[select.selectedIndex];
    if (prompt && chosen && chosen.value === "") {
      input.placeholder = chosen.text;
      chosen = null;
    }
    input.value = chosen ? chosen.text : "";

    var newLabel = document.createElement("label");
    newLabel.setAttribute("for", base);
    newLabel.textContent = box.dataset.searchLabel || "";
    var hint = document.createElement("p");
    hint.className = "hint";
    hint.id = base + "-hint";
    hint.textContent = box.dataset.searchHint || "";
    var list = document.createElement("ul");
    list.id = base + "-list";
    list.className = "place-search__list";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", box.dataset.searchLabel || "");
    list.hidden = true;
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("aria-live", "polite");

    // Hidden, but still the value sent (and set by choose()).
    select.hidden = true;
    select.style.display = "none";
    if (label) {
      label.hidden = true;
      label.style.display = "none";
    }
    var wrap = document.createElement("div");
    wrap.className = "place-search";
    wrap.appendChild(input);
    wrap.appendChild(list);
    box.insertBefore(hint, select);
    box.insertBefore(newLabel, hint);
    box.insertBefore(wrap, select);
    box.appendChild(status);

    // The error summary's link to this field leads to the search box (the select it
    // names is hidden).
    var summaryLinks = document.querySelectorAll('.error-summary a[href="#' + select.id + '"]');
    for (var k = 0; k < summaryLinks.length; k++) {
      summaryLinks[k].addEventListener("click", function (event) {
        event.preventDefault();
        input.focus();
      });
    }

    var items = [];
    var active = -1;
    var timer = null;
    var asked = 0;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var nodes = list.querySelectorAll("[role=option]");
      for (var k = 0; k < nodes.length; k++) {
        nodes[k].setAttribute("aria-selected", k === index ? "true" : "false");
      }
      active = index;
      if (index >= 0 && nodes[index]) {
        input.setAttribute("aria-activedescendant", nodes[index].id);
        nodes[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(item) {
      var option = null;
      for (var k = 0; k < select.options.length; k++) {
        if (select.options[k].value === String(item.id)) option = select.options[k];
      }
      if (!option) { // a place farther than the form's own list: added to it
        option = document.createElement("option");
        option.value = String(item.id);
        option.text = item.label;
        select.appendChild(option);
      }
      select.value = String(item.id);
      chosen = option;
      input.value = item.label;
      close();
    }

    function show(found, typed) {
      items = [];
      var needle = fold(typed);
      fixed.forEach(function (item) {
        if (!needle || fold(item.label).indexOf(needle) >= 0) items.push(item);
      });
      found.forEach(function (place) { items.push(place); });
      list.innerHTML = "";
      items.forEach(function (item, index) {
        var li = document.createElement("li");
        li.id = base + "-opt-" + index;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.className = "place-search__option";
        li.textContent = item.label;
        if (item.distance) {
          var away = document.createElement("span");
          away.className = "place-search__distance";
          away.textContent = " " + (box.dataset.awayText || "{d}").replace("{d}", item.distance);
          li.appendChild(away);
        }
        li.addEventListener("mousedown", function (event) { event.preventDefault(); });
        li.addEventListener("click", function () { choose(item); });
        list.appendChild(li);
      });
      if (!found.length && typed) {
        var none = document.createElement("li");
        none.className = "place-search__none";
        none.textContent = box.dataset.noneText || "";
        list.appendChild(none);
        status.textContent = box.dataset.noneText || "";
      } else {
        // French counts 0 and 1 as singular (« 1 lieu trouvé »), English 1 only.
        var french = (document.documentElement.lang || "fr").slice(0, 2) === "fr";
        var one = french ? found.length < 2 : found.length === 1;
        var text = one ? box.dataset.countOne : box.dataset.countText;
        status.textContent = (text || "{n}").replace("{n}", String(found.length));
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }

    function search() {
      var typed = input.value.trim();
      var ticket = ++asked;
      fetch(box.dataset.searchUrl + "?q=" + encodeURIComponent(typed), {
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      })
        .then(function (response) { return response.ok ? response.json() : { places: [] }; })
        .then(function (data) {
          if (ticket === asked) show(data.places || [], typed);
        })
        .catch(function () { /* the select's list stays the fallback: nothing to do */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, DELAY_MS);
    });
    input.addEventListener("focus", function () {
      if (list.hidden) {
        // The current text is the chosen place: offer the nearest, not a search of it.
        var typed = input.value;
        input.select();
        if (chosen && typed === chosen.text) {
          input.value = "";
          search();
          input.value = typed;
          input.select();
        } else {
          search();
        }
      }
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (list.hidden) { search(); return; }
        highlight(Math.min(active + 1, items.length - 1));
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight(Math.max(active - 1, 0));
      } else if (event.key === "Enter") {
        // Choosing, not sending the form: the highlighted place, or the first one found
        // (Enter after typing must never send the choice made before).
        if (!list.hidden && items.length) {
          event.preventDefault();
          choose(items[active >= 0 ? active : 0]);
        }
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", function () {
      close();
      // Leaving the box with a text that is no choice: show the choice still made.
      var current = select.options[select.selectedIndex];
      if (prompt && current && current.value === "") current = null;
      input.value = current ? current.text : "";
    });
  }

  function start() {
    var boxes = document.querySelectorAll("[data-place-search]");
    for (var i = 0; i < boxes.length; i++) setUp(boxes[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
