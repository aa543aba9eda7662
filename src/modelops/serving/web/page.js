// The page at `/`: posts the form (or a CSV file, in chunks) to the same /predict as any client.
// Plain browser JavaScript, no dependencies and no build step.
"use strict";

(function () {
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const form = document.getElementById("predict-form");
  const features = data.features;
  const byName = new Map(features.map((feature, index) => [feature.name, { feature, index }]));
  const PREDICT_URL = "predict"; // relative: works under any base path

  // --- values: the form's strings to JSON values per the feature's type -------------------
  const TRUE = new Set(["true", "1", "yes", "y", "t"]);
  const FALSE = new Set(["false", "0", "no", "n", "f"]);

  function toValue(feature, raw) {
    const text = raw === undefined || raw === null ? "" : String(raw).trim();
    if (text === "") return null; // missing: the model imputes it
    if (feature.type === "number") {
      const number = Number(text);
      return Number.isFinite(number) ? number : text; // the API names a column that is no number
    }
    if (feature.type === "boolean") {
      const lower = text.toLowerCase();
      if (TRUE.has(lower)) return true;
      if (FALSE.has(lower)) return false;
      return text;
    }
    return text;
  }

  function instanceFromForm() {
    const instance = {};
    for (const feature of features) {
      instance[feature.name] = toValue(feature, form.elements.namedItem(feature.name).value);
    }
    return instance;
  }

  // --- API ------------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, message, fields) {
      super(message);
      this.status = status;
      this.fields = fields; // [{row, feature, message}] when the API named them
    }
  }

  function describe(detail) {
    const fields = [];
    const messages = [];
    for (const item of Array.isArray(detail) ? detail : []) {
      const loc = Array.isArray(item.loc) ? item.loc : [];
      const feature = loc.length >= 3 && loc[0] === "instances" ? String(loc[2]) : null;
      const row = loc.length >= 2 ? loc[1] : null;
      fields.push({ row, feature, message: item.msg || "invalid" });
      messages.push(feature ? `${feature}: ${item.msg}` : `${loc.join(".") || "request"}: ${item.msg}`);
    }
    return { fields, text: messages.join("; ") };
  }

  async function predict(instances) {
    let response;
    try {
      response = await fetch(PREDICT_URL, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ instances }),
      });
    } catch (error) {
      throw new ApiError(0, "The service did not answer (is it running and reachable?).", []);
    }
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = null;
    }
    if (!response.ok) {
      const { fields, text } = describe(body && body.detail);
      let message = text || (body && (body.error || body.detail)) || response.statusText;
      if (response.status === 403) message = "Access denied: this URL needs signed (AWS_IAM) requests.";
      throw new ApiError(response.status, String(message), fields);
    }
    if (!body || !Array.isArray(body.predictions) || body.predictions.length !== instances.length) {
      throw new ApiError(response.status, "The service answered without one prediction per row.", []);
    }
    return body.predictions;
  }

  // --- one row: the form ------------------------------------------------------------------------
  const output = document.getElementById("prediction");
  const bars = document.getElementById("probabilities");
  const formError = document.getElementById("form-error");

  function clearErrors() {
    formError.textContent = "";
    for (const { index } of byName.values()) {
      document.getElementById(`feature-${index}-error`).textContent = "";
      document.getElementById(`feature-${index}`).removeAttribute("aria-invalid");
    }
  }

  function showErrors(error) {
    let placed = false;
    for (const field of error.fields || []) {
      const known = field.feature !== null && byName.get(field.feature);
      if (!known) continue;
      const message = document.getElementById(`feature-${known.index}-error`);
      message.textContent = humane(field.message);
      document.getElementById(`feature-${known.index}`).setAttribute("aria-invalid", "true");
      placed = true;
    }
    formError.textContent = placed ? "Some fields need a change: see the messages under them." : error.message;
  }

  function humane(message) {
    if (/valid number/i.test(message)) return "Enter a number.";
    if (/valid boolean/i.test(message)) return "Choose yes or no.";
    if (/finite/i.test(message)) return "Enter a finite number.";
    if (/field required|missing/i.test(message)) return "This field is required.";
    if (/input should be/i.test(message)) return message.replace(/^Input should be/i, "Should be");
    return message;
  }

  function labelOf(prediction) {
    if ("value" in prediction) return String(prediction.value);
    return String(prediction.label);
  }

  function showPrediction(prediction) {
    output.textContent = labelOf(prediction);
    bars.replaceChildren();
    let probabilities = prediction.probabilities;
    if (!probabilities && typeof prediction.probability === "number") {
      const classes = data.classes && data.classes.length === 2 ? data.classes.map(String) : ["0", "1"];
      const positive = data.positive_class != null ? String(data.positive_class) : classes[1];
      const negative = classes.find((c) => c !== positive) || "other";
      probabilities = { [negative]: 1 - prediction.probability, [positive]: prediction.probability };
    }
    if (!probabilities) return;
    for (const [label, p] of Object.entries(probabilities)) {
      const row = document.createElement("div");
      row.className = "bar";
      const name = document.createElement("span");
      name.className = "bar-label";
      name.textContent = label;
      const track = document.createElement("span");
      track.className = "bar-track";
      track.setAttribute("role", "meter");
      track.setAttribute("aria-valuemin", "0");
      track.setAttribute("aria-valuemax", "1");
      track.setAttribute("aria-valuenow", String(p));
      track.setAttribute("aria-label", `probability of ${label}`);
      const fill = document.createElement("span");
      fill.className = "bar-fill";
      fill.style.width = `${Math.max(0, Math.min(1, p)) * 100}%`;
      track.append(fill);
      const value = document.createElement("span");
      value.className = "bar-value";
      value.textContent = `${(p * 100).toFixed(1)}%`;
      row.append(name, track, value);
      bars.append(row);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const button = document.getElementById("predict-button");
    button.disabled = true;
    output.textContent = "…";
    bars.replaceChildren();
    try {
      const [prediction] = await predict([instanceFromForm()]);
      showPrediction(prediction);
    } catch (error) {
      output.textContent = "—";
      showErrors(error instanceof ApiError ? error : new ApiError(0, String(error), []));
    } finally {
      button.disabled = false;
    }
  });

  form.addEventListener("reset", () => {
    clearErrors();
    output.textContent = "—";
    bars.replaceChildren();
  });

  document.getElementById("example-button").addEventListener("click", () => {
    const example = data.input_example[0];
    if (!example) return;
    clearErrors();
    for (const feature of features) {
      const value = example[feature.name];
      const control = form.elements.namedItem(feature.name);
      control.value = value === null || value === undefined ? "" : String(value);
    }
  });

  // --- a file: CSV in, chunks to /predict, CSV out --------------------------------------------
  function parseCsv(text) {
    // RFC 4180: quoted fields may hold commas, quotes ("") and newlines.
    const rows = [];
    let row = [];
    let field = "";
    let quoted = false;
    for (let i = 0; i < text.length; i += 1) {
      const c = text[i];
      if (quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 1;
          } else {
            quoted = false;
          }
        } else {
          field += c;
        }
      } else if (c === '"') {
        quoted = true;
      } else if (c === ",") {
        row.push(field);
        field = "";
      } else if (c === "\n" || c === "\r") {
        if (c === "\r" && text[i + 1] === "\n") i += 1;
        row.push(field);
        rows.push(row);
        row = [];
        field = "";
      } else {
        field += c;
      }
    }
    if (field !== "" || row.length) {
      row.push(field);
      rows.push(row);
    }
    return rows.filter((r) => !(r.length === 1 && r[0] === ""));
  }

  function csvCell(value) {
    const text = value === null || value === undefined ? "" : String(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  function predictionColumns(prediction) {
    // As `make score` and the Python client: label, probability (binary), proba_<class>; or value.
    const columns = {};
    for (const [key, value] of Object.entries(prediction)) {
      if (key !== "probabilities") columns[key] = value;
    }
    if (prediction.probabilities) {
      for (const [label, p] of Object.entries(prediction.probabilities)) {
        columns[`proba_${label}`] = p;
      }
    }
    return columns;
  }

  const status = document.getElementById("csv-status");
  const progress = document.getElementById("csv-progress");
  const download = document.getElementById("csv-download");
  const preview = document.getElementById("csv-preview");

  function showPreview(header, rows) {
    preview.replaceChildren();
    const head = preview.createTHead().insertRow();
    for (const name of header) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = name;
      head.append(th);
    }
    const body = preview.createTBody();
    for (const values of rows) {
      const tr = body.insertRow();
      for (const value of values) tr.insertCell().textContent = value === null ? "" : String(value);
    }
  }

  async function scoreFile(file) {
    download.hidden = true;
    preview.replaceChildren();
    const rows = parseCsv(await file.text());
    if (rows.length < 2) throw new Error(`${file.name}: no rows under the header`);
    const header = rows[0].map((name) => name.trim());
    const missing = features.filter((f) => !header.includes(f.name)).map((f) => f.name);
    if (missing.length) throw new Error(`${file.name} lacks the model's features: ${missing.join(", ")}`);
    const positions = features.map((f) => header.indexOf(f.name));
    const body = rows.slice(1);
    const chunk = Math.max(1, data.max_instances || 1000);
    const results = [];
    progress.hidden = false;
    progress.max = body.length;
    progress.value = 0;
    for (let start = 0; start < body.length; start += chunk) {
      const slice = body.slice(start, start + chunk);
      const instances = slice.map((values) => {
        const instance = {};
        features.forEach((f, i) => {
          instance[f.name] = toValue(f, values[positions[i]]);
        });
        return instance;
      });
      try {
        results.push(...(await predict(instances)));
      } catch (error) {
        const first = error.fields && error.fields.find((f) => f.row !== null);
        const where = first ? `row ${start + Number(first.row) + 1}` : `rows ${start + 1}-${start + slice.length}`;
        throw new Error(`${file.name}, ${where}: ${error.message}`);
      }
      progress.value = start + slice.length;
      status.textContent = `Scored ${start + slice.length} of ${body.length} rows…`;
    }
    const columns = results.map(predictionColumns);
    const added = [...new Set(columns.flatMap((c) => Object.keys(c)))];
    const outHeader = [...header, ...added];
    const outRows = body.map((values, i) => [...values, ...added.map((k) => columns[i][k] ?? null)]);
    const text = [outHeader, ...outRows].map((r) => r.map(csvCell).join(",")).join("\n") + "\n";
    if (download.href) URL.revokeObjectURL(download.href);
    download.href = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    download.download = file.name.replace(/\.csv$/i, "") + "-predictions.csv";
    download.hidden = false;
    showPreview(outHeader, outRows.slice(0, 10));
    status.textContent = `Scored ${body.length} rows` + (body.length > 10 ? " (the first 10 below)." : ".");
  }

  document.getElementById("csv-file").addEventListener("change", async (event) => {
    const [file] = event.target.files;
    if (!file) return;
    status.classList.remove("error");
    status.textContent = `Reading ${file.name}…`;
    try {
      await scoreFile(file);
    } catch (error) {
      status.classList.add("error");
      status.textContent = error.message;
      progress.hidden = true;
    }
  });
})();
