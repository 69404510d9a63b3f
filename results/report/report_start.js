/* dse report, part 7: start. */
  // -- start ------------------------------------------------------------------------------

  window.addEventListener("error", function (event) {
    report.errors.push(String(event.message || event));
  });
  header();
  setupTabs();
  setupFront();
  drawers.matrix = drawMatrix;
  drawers.parallel = drawParallel;
  drawers.layers = drawBits;
  drawers.convergence = drawConvergence;
  drawers.sensitivity = drawSensitivity;
  drawers.fidelity = drawFidelity;
  setupTable();
  setupAbout();
  show(query.get("view") && views[query.get("view")] ? query.get("view") : "front");
  var initial = query.get("trial");
  if (initial !== null && info.points[initial]) select(Number(initial));
  report.ready = true;
