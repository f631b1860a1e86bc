// The page of `dro view`: clicking or hovering a step fills the details; lane titles stay in view.
// Data come from the JSON in #plan-data and reach the page through textContent only.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("plan-data").textContent);
  const details = document.getElementById("details");
  const PAST = { complete: "completed", resume: "resumed", signal: "signalled", retry: "retried", cancel: "canceled" };
  let pinned = null;

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function facts(rows) {
    const list = element("dl");
    for (const [name, value] of rows) {
      if (value === undefined || value === null || value === "") continue;
      list.append(element("dt", name), element("dd", value));
    }
    return list;
  }

  function section(title, ...children) {
    const part = element("section");
    part.append(element("h3", title), ...children);
    return part;
  }

  function actLine(act) {
    let line = (PAST[act.act] || act.act) + " by " + (act.operator || "unknown") + " at " + act.at;
    if (act.event) line += " (event " + act.event + ")";
    if (act.reason) line += ", reason: " + act.reason;
    return line;
  }

  function show(id) {
    const step = data.steps[id];
    if (!step) return;
    const parts = [element("h2", step.id), element("p", step.title, "title")];
    parts.push(facts([
      ["state", step.state],
      ["type", step.type],
      ["lane", step.lane_title],
      ["scope", step.scope],
      ["item", step.item],
      ["bundle", step.bundle],
      ["product", step.product],
      ["attempts", step.attempts],
      ["queue", step.queue],
      ["waits for event", step.event],
      ["after", step.after.join(", ")],
      ["undoes", step.undoes ? step.undoes + " (its " + step.compensates + ")" : null],
      ["made in", step.revision > 1 ? "revision " + step.revision : null],
    ]));
    parts.push(section("SLA", facts([
      ["sla", step.sla || "none"],
      ["due", step.due],
      ["duration", step.duration],
      ["jeopardy", step.jeopardy],
    ])));
    parts.push(section("Times", facts([
      ["ready", step.ready_at],
      ["started", step.started_at],
      ["completed", step.completed_at],
      ["retry at", step.retry_at],
      ["resume at", step.resume_at],
    ])));
    if (step.error) {
      const error = element("div", null, "error");
      error.append(element("p", step.error.code, "error-code"), element("p", step.error.message, "error-message"));
      if (step.error.retryable === false) error.append(element("p", "not retryable"));
      parts.push(section("Error", error));
    }
    const outputs = Object.keys(step.outputs || {}).length
      ? element("pre", JSON.stringify(step.outputs, null, 2), "outputs") : element("p", "none", "none");
    parts.push(section("Outputs", outputs));
    const acts = element("ol", null, "acts");
    for (const act of step.acts || []) acts.append(element("li", actLine(act)));
    parts.push(section("Operator acts", step.acts && step.acts.length ? acts : element("p", "none", "none")));
    details.replaceChildren(...parts);
    details.dataset.step = id;
    for (const edge of document.querySelectorAll("path.edge")) {
      edge.classList.toggle("related", edge.dataset.from === id || edge.dataset.to === id);
    }
  }

  function pin(node) {
    if (pinned) pinned.classList.remove("selected");
    pinned = node;
    node.classList.add("selected");
    show(node.dataset.stepId);
  }

  for (const node of document.querySelectorAll(".step")) {
    node.addEventListener("click", () => pin(node));
    node.addEventListener("focus", () => pin(node));
    node.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        pin(node);
      }
    });
    node.addEventListener("mouseenter", () => show(node.dataset.stepId));
    node.addEventListener("mouseleave", () => { if (pinned) show(pinned.dataset.stepId); });
  }

  // Lane titles stay in view when the drawing scrolls sideways, so a wide plan stays readable.
  const canvas = document.getElementById("canvas");
  const labels = Array.from(document.querySelectorAll(".lane-label"), (label) => [label, label.dataset.y]);
  function keepTitles() {
    for (const [label, y] of labels) label.setAttribute("transform", "translate(" + canvas.scrollLeft + "," + y + ")");
  }
  canvas.addEventListener("scroll", keepTitles, { passive: true });
  keepTitles();
}());
