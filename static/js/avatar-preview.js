/* "Ma photo": shows the photo chosen before it is sent. Without JavaScript the form
   works the same, with no preview. The file is read as a data: URL (works
   whatever the page's image policy); a format the browser cannot draw (an iPhone's
   HEIC in most browsers) says so instead of showing a broken image. Nothing is sent
   anywhere: the server cleans the photo when the form is. */
(function () {
  "use strict";
  var input = document.querySelector("input[type=file][data-avatar-input]");
  var figure = document.querySelector("[data-avatar-preview]");
  var image = document.querySelector("[data-avatar-preview-image]");
  var none = document.querySelector("[data-avatar-preview-none]");
  if (!input || !figure || !image || !window.FileReader) {
    return;
  }
  // A phone photo is a few MB; past 10 MB the server refuses it anyway.
  var LIMIT = 10 * 1024 * 1024;

  function hide() {
    figure.hidden = true;
    if (none) {
      none.hidden = true;
    }
    image.removeAttribute("src");
  }

  function cannotShow() {
    figure.hidden = true;
    image.removeAttribute("src");
    if (none) {
      none.hidden = false;
    }
  }

  image.addEventListener("load", function () {
    figure.hidden = false;
    if (none) {
      none.hidden = true;
    }
  });
  image.addEventListener("error", cannotShow);

  input.addEventListener("change", function () {
    var file = input.files && input.files[0];
    if (!file) {
      hide();
      return;
    }
    if (file.size > LIMIT) {
      hide(); // the server says why when the form is sent
      return;
    }
    var reader = new FileReader();
    reader.addEventListener("load", function () {
      image.src = String(reader.result);
    });
    reader.addEventListener("error", cannotShow);
    reader.readAsDataURL(file);
  });
})();
