// Starts ReDoc on /redoc; a file of its own so that the page needs no inline script (CSP).
window.addEventListener("load", function () {
  var root = document.getElementById("redoc");
  Redoc.init(root.dataset.specUrl, { hideDownloadButton: false }, root);
});
