/* Photos of a post's form: a preview of each file chosen, its own description and a
   "Retirer" button (templates/macros/photo_fields.html). Progressive enhancement:
   without JavaScript the file input and the description inputs below it are sent as
   they are. With it, those inputs give way to one description per file chosen
   (pre-filled with the title typed), and files over the limit, over 10 MB or of
   another type are left out and named in the live message. The server still judges
   every file. Texts come from the page (data attributes), so they are translated with
   the templates. */
(function () {
  "use strict";

  var TYPES = ["image/jpeg", "image/png", "image/webp", "image/heic", "image/heif"];
  var EXTENSIONS = /\.(jpe?g|png|webp|heic|heif)$/i;

  function say(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (all, key) {
      return key in values ? String(values[key]) : all;
    });
  }

  function accepted(file) {
    if (TYPES.indexOf(file.type) >= 0) return true;
    // HEIC photos often come without a type: their name tells.
    return !file.type && EXTENSIONS.test(file.name);
  }

  function canRebuild() {
    try {
      return typeof DataTransfer === "function" && !!new DataTransfer().items;
    } catch (e) {
      return false;
    }
  }

  function setUp(box) {
    if (box.dataset.ready) return;
    var input = box.querySelector("input[type=file]");
    var preview = box.querySelector("[data-photo-preview]");
    var altsBox = box.querySelector("[data-photo-alts]");
    var addBox = box.querySelector("[data-photo-add]");
    var full = box.querySelector("[data-photo-full]");
    var status = box.querySelector("[data-photo-status]");
    if (!input || !preview || !altsBox || !window.URL || !URL.createObjectURL) return;
    box.dataset.ready = "1";

    var max = parseInt(box.dataset.max, 10) || 1;
    var maxBytes = parseInt(box.dataset.maxBytes, 10) || 10 * 1024 * 1024;
    var title = document.getElementById(box.dataset.titleInput);
    var rebuild = canRebuild();
    // The files kept, each with the description typed for it.
    var chosen = [];
    var serial = 0;

    // The description inputs of the page without JavaScript give way to the preview's.
    altsBox.hidden = true;
    var plain = altsBox.querySelectorAll("input");
    for (var i = 0; i < plain.length; i++) plain[i].disabled = true;

    function room() {
      var boxes = box.querySelectorAll("[data-photo-remove]");
      var kept = 0;
      for (var i = 0; i < boxes.length; i++) if (!boxes[i].checked) kept++;
      return Math.max(max - kept, 0);
    }

    function tell(messages) {
      status.textContent = "";
      // A new text in the live region, after it was emptied: read out every time.
      window.setTimeout(function () {
        status.textContent = messages.join(" ");
      }, 50);
    }

    function syncInput() {
      if (!rebuild) return;
      var transfer = new DataTransfer();
      chosen.forEach(function (entry) { transfer.items.add(entry.file); });
      input.files = transfer.files;
    }

    function counted(messages) {
      if (chosen.length === 1) messages.push(box.dataset.chosenOne);
      else if (chosen.length > 1) messages.push(say(box.dataset.chosenMany, { n: chosen.length }));
      return messages;
    }

    function render() {
      preview.textContent = "";
      chosen.forEach(function (entry, index) {
        var li = document.createElement("li");
        li.className = "photo-item";

        var img = document.createElement("img");
        img.className = "photo-item__img";
        img.alt = "";
        img.addEventListener("error", function () {
          // Should a blob: image be refused (an older policy, a browser's own rule), read
          // the file as a data: URL instead; a format the browser cannot show (HEIC)
          // gets a sentence.
          if (img.src.indexOf("blob:") === 0 && window.FileReader) {
            var reader = new FileReader();
            reader.addEventListener("load", function () { img.src = reader.result; });
            reader.readAsDataURL(entry.file);
            return;
          }
          var note = document.createElement("p");
          note.className = "photo-item__nopreview";
          note.textContent = box.dataset.noPreview;
          img.replaceWith(note);
        });
        img.src = entry.url;
        li.appendChild(img);

        var fields = document.createElement("div");
        fields.className = "photo-item__fields";
        var name = document.createElement("p");
        name.className = "photo-item__name";
        name.textContent = entry.file.name;
        fields.appendChild(name);

        var field = document.createElement("div");
        field.className = "field";
        var id = "photo-preview-alt-" + entry.id;
        var label = document.createElement("label");
        label.setAttribute("for", id);
        label.textContent = say(box.dataset.altLabel, { name: entry.file.name });
        var alt = document.createElement("input");
        alt.type = "text";
        alt.id = id;
        alt.name = "photo_alt";
        alt.maxLength = parseInt(box.dataset.altMax, 10) || 200;
        alt.value = entry.alt;
        alt.setAttribute("aria-describedby", "photos-alt-hint");
        alt.addEventListener("input", function () { entry.alt = alt.value; });
        field.appendChild(label);
        field.appendChild(alt);
        fields.appendChild(field);

        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "button button--quiet photo-item__remove";
        remove.textContent = box.dataset.removeText + " ";
        var whom = document.createElement("span");
        whom.className = "visually-hidden";
        whom.textContent = "« " + entry.file.name + " »";
        remove.appendChild(whom);
        remove.addEventListener("click", function () { drop(index); });
        fields.appendChild(remove);

        li.appendChild(fields);
        preview.appendChild(li);
      });
      preview.hidden = chosen.length === 0;
    }

    function drop(index) {
      var entry = chosen.splice(index, 1)[0];
      URL.revokeObjectURL(entry.url);
      if (!rebuild) {
        // One file cannot be taken out of the selection here: the whole choice goes.
        chosen.forEach(function (other) { URL.revokeObjectURL(other.url); });
        chosen = [];
        input.value = "";
      }
      syncInput();
      render();
      // Focus stays in the list: on the next photo's button, else the file input.
      var buttons = preview.querySelectorAll(".photo-item__remove");
      (buttons[Math.min(index, buttons.length - 1)] || input).focus();
      tell(counted([say(box.dataset.removedText, { name: entry.file.name })]));
    }

    function choose() {
      var picked = Array.prototype.slice.call(input.files || []);
      var messages = [];
      // Choosing again adds to the photos chosen (when the browser lets us rebuild
      // the selection); otherwise the new choice replaces the old one.
      var kept = rebuild ? chosen.slice() : [];
      if (!rebuild) chosen.forEach(function (entry) { URL.revokeObjectURL(entry.url); });
      var space = room();
      picked.forEach(function (file) {
        if (!accepted(file)) {
          messages.push(say(box.dataset.badType, { name: file.name }));
        } else if (file.size > maxBytes) {
          messages.push(say(box.dataset.tooBig, { name: file.name }));
        } else if (kept.length >= space) {
          messages.push(say(box.dataset.tooMany, { name: file.name }));
        } else {
          serial += 1;
          kept.push({
            id: serial,
            file: file,
            url: URL.createObjectURL(file),
            alt: title ? title.value.slice(0, 200) : ""
          });
        }
      });
      chosen = kept;
      if (rebuild) {
        syncInput();
      } else if (messages.length) {
        // The selection cannot be changed here: nothing is sent rather than a refused file.
        chosen.forEach(function (entry) { URL.revokeObjectURL(entry.url); });
        chosen = [];
        input.value = "";
      }
      render();
      tell(counted(messages));
    }

    function onRoomChange() {
      var space = room();
      addBox.hidden = space === 0;
      if (full) full.hidden = space > 0;
      if (chosen.length > space) {
        chosen.splice(space).forEach(function (entry) { URL.revokeObjectURL(entry.url); });
        if (rebuild) syncInput(); else input.value = "";
        render();
      }
    }

    input.addEventListener("change", choose);
    box.addEventListener("change", function (event) {
      if (event.target && event.target.hasAttribute("data-photo-remove")) onRoomChange();
    });
    onRoomChange();
  }

  function start() {
    var boxes = document.querySelectorAll("[data-photo-picker]");
    for (var i = 0; i < boxes.length; i++) setUp(boxes[i]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
