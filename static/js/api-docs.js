/* /api/docs: Swagger UI (vendored) on the app's own OpenAPI document. */
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    // Calls made from "Try it out" carry the token typed in "Authorize", never a cookie.
    withCredentials: false,
  });
})();
