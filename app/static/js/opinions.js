// Opinion workspace and report page: progressive enhancements, nothing needs them to work.
(function () {
  "use strict";

  // "Select every opinion of this group": shown only when scripts run.
  document.querySelectorAll("input.select-group").forEach(function (master) {
    master.hidden = false;
    master.addEventListener("change", function () {
      var group = master.getAttribute("data-group");
      document.querySelectorAll('input[name="ids"][data-group="' + group + '"]').forEach(function (box) {
        box.checked = master.checked;
      });
    });
  });

  // Report progress: ask the server every two seconds while the PDF is being made.
  var panel = document.getElementById("report-progress");
  if (!panel) {
    return;
  }
  var state = panel.getAttribute("data-state");
  if (state !== "queued" && state !== "running") {
    return;
  }
  var bar = panel.querySelector("progress");
  var step = panel.querySelector(".report-step");
  function poll() {
    fetch(panel.getAttribute("data-status-url"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (status) {
        if (status.state === "queued" || status.state === "running") {
          bar.hidden = false;
          bar.value = status.progress || 0;
          bar.textContent = (status.progress || 0) + "%";
          step.textContent = status.step || "";
          window.setTimeout(poll, 2000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
})();
