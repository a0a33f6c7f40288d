// One function's page: header, tabs (Code, Test, Monitor, Configuration, Versions) addressable as
// /console/functions/<name>/<tab>. Every action is an AWS operation; its error is shown as AWS words it.

import { api, call, fn } from "./api.js";
import { errorText, field, h } from "./dom.js";
import { metricCharts } from "./charts.js";
import { codeEditor } from "./editor.js";
import { TEMPLATES } from "./event_templates.js";
import { current, go } from "./main.js";

const TABS = [
  ["code", "Code"],
  ["test", "Test"],
  ["monitoring", "Monitor"],
  ["configuration", "Configuration"],
  ["versions", "Aliases and versions"],
  ["cost", "Cost and tuning"],
];

let keyboardTab = false; // focus follows the selected tab only when the keyboard moved it

export async function functionPage(page, name, tab) {
  const path = (t) => `/console/functions/${encodeURIComponent(name)}/${t}`;
  let config;
  const stillHere = current();
  try {
    config = (await call("lambda", "GetFunction", { FunctionName: name })).Configuration;
    if (!stillHere()) return;
  } catch (err) {
    if (!stillHere()) return;
    page.replaceChildren(
      h("h1", {}, name),
      h("p", { class: "error", role: "alert", testid: "function-error" }, errorText(err)),
      h("p", {}, h("a", { href: "/console/", "data-link": true }, "Back to functions")),
    );
    return;
  }
  if (!TABS.some(([id]) => id === tab)) tab = "code";
  const panel = h("section", { class: "panel", role: "tabpanel", id: "tabpanel", tabindex: "0" });
  const tabs = h("div", { class: "tabs", role: "tablist", "aria-label": "Function" });
  for (const [id, label] of TABS) {
    tabs.append(
      h("button", {
        type: "button", role: "tab", testid: `tab-${id}`, "aria-selected": String(id === tab),
        tabindex: id === tab ? "0" : "-1", "aria-controls": "tabpanel",
        onclick: () => go(path(id)),
        onkeydown: (e) => {
          const i = TABS.findIndex(([t]) => t === id);
          const step = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
          if (step) {
            keyboardTab = true;
            go(path(TABS[(i + step + TABS.length) % TABS.length][0]));
          }
        },
      }, label),
    );
  }
  const deleteButton = h("button", {
    type: "button", class: "danger", testid: "function-delete",
    onclick: async () => {
      if (!confirm(`Delete function ${name}? This cannot be undone.`)) return;
      try {
        await call("lambda", "DeleteFunction", { FunctionName: name });
        go("/console/");
      } catch (err) {
        alert(errorText(err));
      }
    },
  }, "Delete");
  page.replaceChildren(
    h("p", { class: "crumbs" }, h("a", { href: "/console/", "data-link": true }, "Functions"), " / ", name),
    h("div", { class: "bar" }, h("h1", { testid: "function-title" }, name), deleteButton),
    h("dl", { class: "summary" },
      h("dt", {}, "ARN"), h("dd", {}, config.FunctionArn),
      h("dt", {}, "Runtime"), h("dd", {}, config.Runtime || config.PackageType),
      h("dt", {}, "Last modified"), h("dd", {}, config.LastModified),
    ),
    tabs,
    panel,
  );
  const tabButton = tabs.querySelector(`[data-testid="tab-${tab}"]`);
  if (keyboardTab) tabButton.focus();
  keyboardTab = false;
  const render = { code: codeTab, test: testTab, monitoring: monitorTab, configuration: configTab, versions: versionsTab, cost: costTab }[tab];
  await render(panel, name, config);
}

// -- Code -------------------------------------------------------------------------------------
async function codeTab(panel, name, config) {
  const status = h("p", { class: "status", role: "status", testid: "code-status" });
  const error = h("p", { class: "error", role: "alert", testid: "code-error" });
  let source;
  try {
    source = await api(`${fn(name)}/source`);
  } catch (err) {
    panel.replaceChildren(h("p", { class: "error", role: "alert", testid: "code-error" }, errorText(err)));
    return;
  }
  const language = (source.file || "").endsWith(".py") ? "python" : "javascript";
  const editor = codeEditor(source.source ?? "", { language, label: `Code of ${source.file}` });
  const deploy = h("button", {
    type: "button", class: "primary", testid: "code-deploy",
    onclick: async () => {
      deploy.disabled = true;
      error.textContent = "";
      status.textContent = "Deploying…";
      try {
        await api(`${fn(name)}/source`, { method: "POST", body: { file: source.file, source: editor.value } });
        status.textContent = `Deployed ${source.file}.`;
      } catch (err) {
        status.textContent = "";
        error.textContent = errorText(err);
      } finally {
        deploy.disabled = false;
      }
    },
  }, "Deploy");
  const upload = h("input", { type: "file", accept: ".zip,application/zip", testid: "zip-upload", "aria-label": "Upload a .zip file" });
  const uploadError = h("p", { class: "error", role: "alert", testid: "zip-error" });
  upload.addEventListener("change", async () => {
    const file = upload.files[0];
    if (!file) return;
    uploadError.textContent = "";
    const bytes = new Uint8Array(await file.arrayBuffer());
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    try {
      await call("lambda", "UpdateFunctionCode", { FunctionName: name, ZipFile: btoa(binary) });
      status.textContent = `Uploaded ${file.name}.`;
      await codeTab(panel, name, config);
    } catch (err) {
      uploadError.textContent = errorText(err);
    }
  });
  const runtime = h("input", { value: config.Runtime || "", testid: "runtime-input" });
  const handler = h("input", { value: config.Handler || "", testid: "handler-input" });
  const runtimeError = h("p", { class: "error", role: "alert", testid: "runtime-error" });
  const saveRuntime = h("button", {
    type: "button", testid: "runtime-save",
    onclick: async () => {
      runtimeError.textContent = "";
      try {
        await call("lambda", "UpdateFunctionConfiguration", { FunctionName: name, Runtime: runtime.value, Handler: handler.value });
        status.textContent = "Runtime settings saved.";
      } catch (err) {
        runtimeError.textContent = errorText(err);
      }
    },
  }, "Save runtime settings");
  panel.replaceChildren(
    h("div", { class: "bar" }, h("h2", {}, source.file || "(no editable file)"), deploy),
    source.source === null ? h("p", { class: "muted" }, "This file cannot be edited here.") : editor.element,
    status,
    error,
    h("h3", {}, "Upload from .zip file"),
    upload,
    uploadError,
    h("h3", {}, "Runtime settings"),
    h("div", { class: "grid" },
      field("Runtime", runtime).row,
      field("Handler", handler).row,
      h("div", { class: "field" }, h("span", { class: "label" }, "Architecture"), h("span", {}, (config.Architectures || []).join(", "))),
    ),
    runtimeError,
    saveRuntime,
  );
}

// -- Test -------------------------------------------------------------------------------------
async function testTab(panel, name) {
  const events = h("select", { testid: "test-event-select", "aria-label": "Saved test events" });
  const eventName = h("input", { testid: "test-event-name", placeholder: "MyEvent", maxlength: 25 });
  const template = h("select", { testid: "test-template-select", "aria-label": "Event template" },
    h("option", { value: "" }, "Template…"), Object.keys(TEMPLATES).map((t) => h("option", { value: t }, t)));
  const input = h("textarea", {
    class: "json", rows: 14, spellcheck: "false", testid: "test-event-input", "aria-label": "Event JSON",
    value: JSON.stringify(TEMPLATES["hello-world"], null, 2),
  });
  const inputError = h("p", { class: "error", role: "alert", testid: "test-event-error" });
  const result = h("div", { class: "result", testid: "test-result", "aria-live": "polite" });
  let saved = {};
  const fill = async (data) => {
    saved = data.events;
    events.replaceChildren(h("option", { value: "" }, Object.keys(saved).length ? "Saved events…" : "No saved events"),
      ...Object.keys(saved).sort().map((n) => h("option", { value: n }, n)));
  };
  events.addEventListener("change", () => {
    if (events.value) {
      input.value = saved[events.value];
      eventName.value = events.value;
    }
  });
  template.addEventListener("change", () => {
    if (template.value) input.value = JSON.stringify(TEMPLATES[template.value], null, 2);
  });
  const run = h("button", {
    type: "button", class: "primary", testid: "test-run",
    onclick: async () => {
      run.disabled = true;
      inputError.textContent = "";
      result.replaceChildren(h("p", { class: "muted" }, "Running…"));
      try {
        showResult(result, await api(`${fn(name)}/test`, { method: "POST", body: { event: input.value } }));
      } catch (err) {
        result.replaceChildren();
        inputError.textContent = errorText(err);
      } finally {
        run.disabled = false;
      }
    },
  }, "Test");
  const save = h("button", {
    type: "button", testid: "test-event-save",
    onclick: async () => {
      inputError.textContent = "";
      try {
        await fill(await api(`${fn(name)}/test-events/${encodeURIComponent(eventName.value.trim())}`, { method: "PUT", body: { event: input.value } }));
        events.value = eventName.value.trim();
      } catch (err) {
        inputError.textContent = errorText(err);
      }
    },
  }, "Save");
  const remove = h("button", {
    type: "button", class: "danger", testid: "test-event-delete",
    onclick: async () => {
      if (!events.value || !confirm(`Delete saved event ${events.value}?`)) return;
      await fill(await api(`${fn(name)}/test-events/${encodeURIComponent(events.value)}`, { method: "DELETE" }));
    },
  }, "Delete event");
  panel.replaceChildren(
    h("div", { class: "bar" }, h("h2", {}, "Test event"), h("div", {}, save, " ", run)),
    h("div", { class: "grid" }, events, template, field("Event name", eventName).row, remove),
    input,
    inputError,
    result,
  );
  try {
    await fill(await api(`${fn(name)}/test-events`));
  } catch (err) {
    inputError.textContent = errorText(err);
  }
}

function showResult(result, r) {
  const ok = !r.functionError;
  const figure = (label, value, unit, testid) =>
    value === undefined ? null : [h("dt", {}, label), h("dd", { testid }, `${value} ${unit}`)];
  result.replaceChildren(
    h("h3", { class: ok ? "ok" : "failed", testid: "test-status" }, ok ? "Execution result: succeeded" : `Execution result: failed (${r.functionError})`),
    h("h4", {}, "Response"),
    h("pre", { testid: "test-response" }, prettyJson(r.response)),
    h("dl", { class: "summary" },
      figure("Duration", r.duration, "ms", "test-duration"),
      figure("Billed duration", r.billedDuration, "ms", "test-billed-duration"),
      figure("Memory size", r.memorySize, "MB"),
      figure("Max memory used", r.maxMemoryUsed, "MB", "test-max-memory"),
      figure("Init duration", r.initDuration, "ms", "test-init-duration"),
    ),
    h("h4", {}, "Log output"),
    h("pre", { class: "log", testid: "test-log" }, r.logTail),
  );
}

function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

// -- Monitor: CloudWatch metrics (GetMetricData), log streams and their events -----------------
async function monitorTab(panel, name) {
  const group = `/aws/lambda/${name}`;
  const streams = h("ul", { class: "streams", testid: "log-streams" });
  const lines = h("pre", { class: "log", testid: "log-lines", "aria-live": "polite" });
  const error = h("p", { class: "error", role: "alert" });
  const live = h("input", { type: "checkbox", testid: "live-tail" });
  const range = h("select", { testid: "monitoring-range", "aria-label": "Time range" },
    [["15", "15 minutes"], ["60", "1 hour"], ["180", "3 hours"], ["720", "12 hours"], ["1440", "1 day"], ["10080", "1 week"]]
      .map(([v, label]) => h("option", { value: v }, label)));
  range.value = "60";
  const chartBox = h("div", { class: "charts", testid: "monitoring-charts" });
  const note = h("p", { class: "muted", testid: "monitoring-note" });
  const chartError = h("p", { class: "error", role: "alert", testid: "monitoring-error" });
  const drawCharts = async () => {
    try {
      const data = await api(`${fn(name)}/metrics?minutes=${range.value}`);
      chartError.textContent = "";
      note.textContent = `CloudWatch metrics of namespace AWS/Lambda, FunctionName ${name}, period ${data.period / 60} min.` +
        (data.percentilesNote ? ` ${data.percentilesNote}` : "");
      chartBox.replaceChildren(...metricCharts(data));
    } catch (err) {
      chartError.textContent = errorText(err);
    }
  };
  range.addEventListener("change", drawCharts);
  let current = null;
  let timer = 0;
  const showStream = async (stream) => {
    current = stream;
    try {
      const out = await call("logs", "GetLogEvents", { logGroupName: group, logStreamName: stream, startFromHead: false, limit: 200 });
      lines.replaceChildren(...out.events.map((e) => `${new Date(e.timestamp).toISOString()}  ${e.message.replace(/\n$/, "")}\n`));
    } catch (err) {
      error.textContent = errorText(err);
    }
  };
  const load = async () => {
    drawCharts();
    try {
      const out = await call("logs", "DescribeLogStreams", { logGroupName: group, orderBy: "LastEventTime", descending: true, limit: 20 });
      error.textContent = "";
      streams.replaceChildren(...out.logStreams.map((s) =>
        h("li", {}, h("button", { type: "button", class: "linkish", onclick: () => showStream(s.logStreamName) }, s.logStreamName),
          " ", h("span", { class: "muted" }, s.lastEventTimestamp ? new Date(s.lastEventTimestamp).toISOString() : ""))));
      if (!out.logStreams.length) streams.append(h("li", { class: "muted" }, "No log streams yet: invoke the function."));
      if (out.logStreams.length) await showStream(current || out.logStreams[0].logStreamName);
    } catch (err) {
      if (err.code === "ResourceNotFoundException") streams.replaceChildren(h("li", { class: "muted" }, "No logs yet: invoke the function."));
      else error.textContent = errorText(err);
    }
  };
  live.addEventListener("change", () => {
    clearInterval(timer);
    if (live.checked) {
      timer = setInterval(() => (panel.isConnected ? load() : clearInterval(timer)), 2000);
    }
  });
  panel.replaceChildren(
    h("div", { class: "bar" }, h("h2", {}, "Monitor"), h("div", {},
      h("label", {}, live, " Live tail"), " ", h("button", { type: "button", testid: "logs-refresh", onclick: load }, "Refresh"))),
    error,
    h("div", { class: "bar" }, h("h3", {}, "Metrics"), range),
    note,
    chartError,
    chartBox,
    h("h3", {}, "Log streams"),
    streams,
    h("h3", {}, "Log events"),
    lines,
  );
  await load();
}

// -- Configuration ----------------------------------------------------------------------------
async function configTab(panel, name, config) {
  const memory = h("input", { type: "number", value: String(config.MemorySize), testid: "config-memory-input" });
  const timeout = h("input", { type: "number", value: String(config.Timeout), testid: "config-timeout-input" });
  const storage = h("input", { type: "number", value: String(config.EphemeralStorage?.Size ?? 512), testid: "config-storage-input" });
  const role = h("input", { value: config.Role || "", testid: "config-role-input" });
  const description = h("input", { value: config.Description || "", testid: "config-description-input" });
  const tracing = h("select", { testid: "config-tracing-select" }, ["PassThrough", "Active"].map((m) => h("option", { value: m }, m)));
  tracing.value = config.TracingConfig?.Mode || "PassThrough";
  const fields = {
    memory: field("Memory (MB)", memory, "config-memory"),
    timeout: field("Timeout (seconds)", timeout, "config-timeout"),
    storage: field("Ephemeral storage (MB)", storage, "config-storage"),
    role: field("Execution role", role, "config-role"),
    description: field("Description", description),
    tracing: field("Tracing", tracing),
  };
  const envRows = h("div", { class: "env", testid: "config-env" });
  const addEnv = (key = "", value = "") => {
    const k = h("input", { value: key, "aria-label": "Key", class: "env-key" });
    const v = h("input", { value, "aria-label": "Value", class: "env-value" });
    const row = h("div", { class: "env-row" }, k, v, h("button", { type: "button", onclick: () => row.remove(), "aria-label": "Remove variable" }, "Remove"));
    envRows.append(row);
  };
  for (const [k, v] of Object.entries(config.Environment?.Variables || {})) addEnv(k, v);
  const error = h("p", { class: "error", role: "alert", testid: "config-error" });
  const status = h("p", { class: "status", role: "status", testid: "config-status" });
  const save = h("button", {
    type: "submit", class: "primary", testid: "config-save",
  }, "Save");
  const form = h("form", {
    class: "form",
    onsubmit: async (e) => {
      e.preventDefault();
      for (const f of Object.values(fields)) f.error.textContent = "";
      error.textContent = status.textContent = "";
      const variables = {};
      for (const row of envRows.children) {
        const key = row.querySelector(".env-key").value.trim();
        if (key) variables[key] = row.querySelector(".env-value").value;
      }
      const params = {
        FunctionName: name,
        MemorySize: Number(memory.value),
        Timeout: Number(timeout.value),
        EphemeralStorage: { Size: Number(storage.value) },
        Role: role.value.trim(),
        Description: description.value,
        TracingConfig: { Mode: tracing.value },
        Environment: { Variables: variables },
      };
      save.disabled = true;
      try {
        await call("lambda", "UpdateFunctionConfiguration", params);
        status.textContent = "Configuration saved.";
      } catch (err) {
        const m = err.message;
        const target = /memory/i.test(m) ? fields.memory : /timeout/i.test(m) ? fields.timeout
          : /ephemeral|storage/i.test(m) ? fields.storage : /role/i.test(m) ? fields.role : null;
        (target ? target.error : error).textContent = errorText(err);
      } finally {
        save.disabled = false;
      }
    },
  },
  h("h2", {}, "General configuration"),
  h("div", { class: "grid" }, fields.memory.row, fields.timeout.row, fields.storage.row, fields.role.row, fields.description.row, fields.tracing.row),
  h("h2", {}, "Environment variables"),
  envRows,
  h("button", { type: "button", testid: "config-env-add", onclick: () => addEnv() }, "Add environment variable"),
  error, status, h("p", {}, save));
  const extras = h("div", { class: "extras" });
  panel.replaceChildren(form, extras);
  await triggers(extras, name);
}

async function triggers(box, name) {
  const list = h("ul", { testid: "config-triggers" });
  box.append(h("h2", {}, "Triggers (event source mappings)"), list);
  const load = async () => {
    try {
      const out = await call("lambda", "ListEventSourceMappings", { FunctionName: name });
      list.replaceChildren(...out.EventSourceMappings.map((m) => {
        const on = m.State === "Enabled" || m.State === "Enabling";
        return h("li", {}, `${m.EventSourceArn} — ${m.State} `, h("button", {
          type: "button",
          onclick: async () => {
            await call("lambda", "UpdateEventSourceMapping", { UUID: m.UUID, Enabled: !on }).catch((err) => alert(errorText(err)));
            await load();
          },
        }, on ? "Disable" : "Enable"));
      }));
      if (!out.EventSourceMappings.length) list.append(h("li", { class: "muted" }, "No triggers."));
    } catch (err) {
      list.replaceChildren(h("li", { class: "error" }, errorText(err)));
    }
  };
  await load();
  await concurrency(box, name);
  await provisioned(box, name);
  await asyncInvocation(box, name);
  const url = h("p", { testid: "config-function-url" });
  box.append(h("h2", {}, "Function URL"), url);
  try {
    url.textContent = (await call("lambda", "GetFunctionUrlConfig", { FunctionName: name })).FunctionUrl;
  } catch (err) {
    url.textContent = err.code === "ResourceNotFoundException" ? "No function URL." : errorText(err);
  }
}

async function concurrency(box, name) {
  const shown = h("p", { testid: "config-concurrency" });
  const input = h("input", { type: "number", min: "0", testid: "config-concurrency-input", "aria-label": "Reserved concurrency" });
  const error = h("p", { class: "error", role: "alert", testid: "config-concurrency-error" });
  const load = async () => {
    const c = await call("lambda", "GetFunctionConcurrency", { FunctionName: name });
    const reserved = c.ReservedConcurrentExecutions;
    shown.textContent = reserved === undefined ? "Unreserved account concurrency" : `Reserved concurrency: ${reserved}`;
    input.value = reserved === undefined ? "" : String(reserved);
  };
  const act = async (operation, params) => {
    error.textContent = "";
    try {
      await call("lambda", operation, { FunctionName: name, ...params });
      await load();
    } catch (err) {
      error.textContent = errorText(err);
    }
  };
  box.append(
    h("h2", {}, "Concurrency"),
    shown,
    h("div", { class: "grid" }, input,
      h("button", { type: "button", testid: "config-concurrency-save",
        onclick: () => act("PutFunctionConcurrency", { ReservedConcurrentExecutions: Number(input.value) }) }, "Reserve concurrency"),
      h("button", { type: "button", class: "danger",
        onclick: () => confirm("Remove the reserved concurrency?") && act("DeleteFunctionConcurrency", {}) }, "Use unreserved")),
    error,
  );
  try {
    await load();
  } catch (err) {
    error.textContent = errorText(err);
  }
}

// -- Aliases and versions ---------------------------------------------------------------------
async function versionsTab(panel, name) {
  const versions = h("ul", { testid: "versions" });
  const aliases = h("ul", { testid: "aliases" });
  const error = h("p", { class: "error", role: "alert" });
  const load = async () => {
    try {
      const v = await call("lambda", "ListVersionsByFunction", { FunctionName: name });
      versions.replaceChildren(...v.Versions.map((x) => h("li", {}, `${x.Version} — ${x.LastModified}${x.Description ? ` — ${x.Description}` : ""}`)));
      const a = await call("lambda", "ListAliases", { FunctionName: name });
      aliases.replaceChildren(...a.Aliases.map((x) => {
        const weights = x.RoutingConfig?.AdditionalVersionWeights || {};
        const extra = Object.entries(weights);
        const rest = 1 - extra.reduce((s, [, w]) => s + w, 0);
        const bar = h("div", { class: "split", role: "img", "aria-label": `Traffic split of ${x.Name}` },
          h("span", { class: "split-main" }, `${x.FunctionVersion}: ${Math.round(rest * 100)}%`),
          extra.map(([ver, w]) => h("span", { class: "split-extra" }, `${ver}: ${Math.round(w * 100)}%`)));
        bar.children[0].style.flexGrow = String(rest);
        extra.forEach(([, w], i) => (bar.children[i + 1].style.flexGrow = String(w)));
        return h("li", {}, h("strong", {}, x.Name), " → ", x.FunctionVersion, bar);
      }));
      if (!a.Aliases.length) aliases.append(h("li", { class: "muted" }, "No aliases."));
    } catch (err) {
      error.textContent = errorText(err);
    }
  };
  const publish = h("button", {
    type: "button", testid: "publish-version",
    onclick: async () => {
      try {
        await call("lambda", "PublishVersion", { FunctionName: name });
        await load();
      } catch (err) {
        error.textContent = errorText(err);
      }
    },
  }, "Publish new version");
  panel.replaceChildren(h("div", { class: "bar" }, h("h2", {}, "Versions"), publish), error, versions, h("h2", {}, "Aliases"), aliases);
  await load();
}

// The API's message next to the field it names; anything else under the form.
function fieldFor(message, fields, fallback) {
  for (const [pattern, f] of fields) if (pattern.test(message)) return f.error;
  return fallback;
}

// -- Provisioned concurrency: one config per version or alias ----------------------------------
async function provisioned(box, name) {
  const list = h("ul", { testid: "config-provisioned" });
  const qualifier = h("select", { testid: "config-provisioned-qualifier" });
  const amount = h("input", { type: "number", min: "1", testid: "config-provisioned-input" });
  const fields = {
    qualifier: field("Version or alias", qualifier, "config-provisioned-qualifier"),
    amount: field("Provisioned concurrency", amount, "config-provisioned"),
  };
  const error = h("p", { class: "error", role: "alert", testid: "config-provisioned-error" });
  const load = async () => {
    const [versions, aliases, configs] = await Promise.all([
      call("lambda", "ListVersionsByFunction", { FunctionName: name }),
      call("lambda", "ListAliases", { FunctionName: name }),
      call("lambda", "ListProvisionedConcurrencyConfigs", { FunctionName: name }),
    ]);
    const chosen = qualifier.value;
    qualifier.replaceChildren(
      ...versions.Versions.map((v) => h("option", { value: v.Version }, v.Version === "$LATEST" ? "$LATEST" : `Version ${v.Version}`)),
      ...aliases.Aliases.map((a) => h("option", { value: a.Name }, `Alias ${a.Name}`)),
    );
    const published = versions.Versions.find((v) => v.Version !== "$LATEST");
    qualifier.value = chosen || (aliases.Aliases[0]?.Name ?? published?.Version ?? "$LATEST");
    list.replaceChildren(...configs.ProvisionedConcurrencyConfigs.map((c) => {
      const q = c.FunctionArn.split(":").pop();
      return h("li", { "data-qualifier": q },
        h("strong", {}, q), ` — ${c.AllocatedProvisionedConcurrentExecutions}/${c.RequestedProvisionedConcurrentExecutions} allocated — `,
        h("span", { testid: "config-provisioned-status" }, c.Status), c.StatusReason ? ` (${c.StatusReason})` : "", " ",
        h("button", { type: "button", class: "danger", onclick: async () => {
          if (!confirm(`Remove the provisioned concurrency of ${q}?`)) return;
          error.textContent = "";
          try {
            await call("lambda", "DeleteProvisionedConcurrencyConfig", { FunctionName: name, Qualifier: q });
            await load();
          } catch (err) {
            error.textContent = errorText(err);
          }
        } }, "Remove"));
    }));
    if (!configs.ProvisionedConcurrencyConfigs.length) list.append(h("li", { class: "muted" }, "No provisioned concurrency."));
    // a config being allocated changes status on its own: look again until none is in progress
    clearTimeout(timer);
    if (configs.ProvisionedConcurrencyConfigs.some((c) => c.Status === "IN_PROGRESS")) {
      timer = setTimeout(() => list.isConnected && load().catch((err) => (error.textContent = errorText(err))), 2000);
    }
  };
  let timer = 0;
  const save = h("button", { type: "button", testid: "config-provisioned-save", onclick: async () => {
    for (const f of Object.values(fields)) f.error.textContent = "";
    error.textContent = "";
    try {
      await call("lambda", "PutProvisionedConcurrencyConfig", {
        FunctionName: name, Qualifier: qualifier.value, ProvisionedConcurrentExecutions: Number(amount.value),
      });
      await load();
    } catch (err) {
      fieldFor(err.message, [[/qualifier|version|alias|\$LATEST/i, fields.qualifier], [/provisioned|concurren|value/i, fields.amount]], error)
        .textContent = errorText(err);
    }
  } }, "Save provisioned concurrency");
  box.append(h("h2", {}, "Provisioned concurrency"), list,
    h("div", { class: "grid" }, fields.qualifier.row, fields.amount.row, save), error);
  try {
    await load();
  } catch (err) {
    error.textContent = errorText(err);
  }
}

// -- Asynchronous invocation: retries, event age, destinations ---------------------------------
async function asyncInvocation(box, name) {
  const retries = h("input", { type: "number", min: "0", max: "2", testid: "config-async-retries" });
  const age = h("input", { type: "number", min: "60", max: "21600", testid: "config-async-age" });
  const onSuccess = h("input", { testid: "config-async-success", placeholder: "arn:aws:sqs:…", autocomplete: "off" });
  const onFailure = h("input", { testid: "config-async-failure", placeholder: "arn:aws:sqs:…", autocomplete: "off" });
  const fields = {
    retries: field("Retry attempts", retries, "config-async-retries"),
    age: field("Maximum age of event (seconds)", age, "config-async-age"),
    onSuccess: field("On-success destination ARN", onSuccess, "config-async-success"),
    onFailure: field("On-failure destination ARN", onFailure, "config-async-failure"),
  };
  const shown = h("p", { testid: "config-async" });
  const error = h("p", { class: "error", role: "alert", testid: "config-async-error" });
  const status = h("p", { class: "status", role: "status", testid: "config-async-status" });
  const load = async () => {
    let c = {};
    try {
      c = await call("lambda", "GetFunctionEventInvokeConfig", { FunctionName: name });
    } catch (err) {
      if (err.code !== "ResourceNotFoundException") throw err;
    }
    const dest = c.DestinationConfig || {};
    retries.value = String(c.MaximumRetryAttempts ?? 2);
    age.value = String(c.MaximumEventAgeInSeconds ?? 21600);
    onSuccess.value = dest.OnSuccess?.Destination || "";
    onFailure.value = dest.OnFailure?.Destination || "";
    shown.textContent = c.FunctionArn
      ? `Retry attempts ${retries.value}, maximum event age ${age.value} s, on success → ${onSuccess.value || "none"}, on failure → ${onFailure.value || "none"}`
      : "Defaults: 2 retry attempts, maximum event age 6 hours, no destinations.";
  };
  const save = h("button", { type: "button", testid: "config-async-save", onclick: async () => {
    for (const f of Object.values(fields)) f.error.textContent = "";
    error.textContent = status.textContent = "";
    const destinations = {};
    if (onSuccess.value.trim()) destinations.OnSuccess = { Destination: onSuccess.value.trim() };
    if (onFailure.value.trim()) destinations.OnFailure = { Destination: onFailure.value.trim() };
    try {
      await call("lambda", "PutFunctionEventInvokeConfig", {
        FunctionName: name, MaximumRetryAttempts: Number(retries.value), MaximumEventAgeInSeconds: Number(age.value),
        DestinationConfig: destinations,
      });
      await load();
      status.textContent = "Asynchronous invocation settings saved.";
    } catch (err) {
      fieldFor(err.message, [[/retry/i, fields.retries], [/age/i, fields.age], [/onSuccess|success/i, fields.onSuccess],
        [/onFailure|failure/i, fields.onFailure], [/destination/i, fields.onFailure]], error).textContent = errorText(err);
    }
  } }, "Save asynchronous invocation");
  const remove = h("button", { type: "button", class: "danger", onclick: async () => {
    if (!confirm("Remove the asynchronous invocation settings (back to the defaults)?")) return;
    error.textContent = "";
    try {
      await call("lambda", "DeleteFunctionEventInvokeConfig", { FunctionName: name });
      await load();
    } catch (err) {
      error.textContent = errorText(err);
    }
  } }, "Use defaults");
  box.append(h("h2", {}, "Asynchronous invocation"), shown,
    h("div", { class: "grid" }, fields.retries.row, fields.age.row, fields.onSuccess.row, fields.onFailure.row),
    h("p", {}, save, " ", remove), error, status);
  try {
    await load();
  } catch (err) {
    error.textContent = errorText(err);
  }
}

// -- Cost and power tuning ----------------------------------------------------------------------
const usd = (v) => `$${Number(v).toFixed(10).replace(/0+$/, "").replace(/\.$/, ".0")}`;

async function costTab(panel, name) {
  const range = h("select", { testid: "cost-range", "aria-label": "Cost time range" },
    [["60", "1 hour"], ["1440", "1 day"], ["10080", "7 days"], ["43200", "30 days"]].map(([v, label]) => h("option", { value: v }, label)));
  range.value = "43200";
  const table = h("dl", { class: "summary", testid: "cost-view" });
  const costError = h("p", { class: "error", role: "alert", testid: "cost-error" });
  const loadCost = async () => {
    try {
      const c = await api(`${fn(name)}/cost?minutes=${range.value}`);
      costError.textContent = "";
      const row = (label, value, testid) => [h("dt", {}, label), h("dd", { testid }, value)];
      table.replaceChildren(
        ...row("Requests", String(c.requests), "cost-requests"),
        ...row("GB-seconds", String(c.gbSeconds), "cost-gb-seconds"),
        ...row("Architecture", c.architecture),
        ...row("Cost (on demand, no free tier)", usd(c.costUsd), "cost-usd"),
        ...row("Prices", `${c.pricing.region}: ${usd(c.pricing.requestPrice)} a request, ${usd(c.pricing.gbSecondPrice[c.architecture])} a GB-second`),
      );
    } catch (err) {
      costError.textContent = errorText(err);
    }
  };
  range.addEventListener("change", loadCost);

  const memory = h("input", { value: "128,256,512,1024", testid: "tune-memory" });
  const invocations = h("input", { type: "number", min: "1", max: "100", value: "5", testid: "tune-invocations" });
  const strategy = h("select", { testid: "tune-strategy" }, ["cost", "speed", "balanced"].map((v) => h("option", { value: v }, v)));
  const payload = h("textarea", { class: "json", rows: 3, spellcheck: "false", testid: "tune-payload", "aria-label": "Tune event JSON", value: "{}" });
  const fields = {
    memory: field("Memory sizes (MB, comma-separated)", memory, "tune-memory"),
    invocations: field("Invocations per size", invocations, "tune-invocations"),
    strategy: field("Strategy", strategy, "tune-strategy"),
  };
  const tuneError = h("p", { class: "error", role: "alert", testid: "tune-error" });
  const progress = h("pre", { class: "log progress", testid: "tune-progress", "aria-live": "polite" });
  const outcome = h("div", { testid: "tune-result" });
  const start = h("button", { type: "button", class: "primary", testid: "tune-start" }, "Run power tuning");
  let timer = 0;
  const show = (run) => {
    progress.textContent = [`${run.state}: ${run.memories.join(", ")} MB, ${run.invocations} invocations each, strategy ${run.strategy}`, ...run.progress].join("\n");
    start.disabled = run.state === "Running";
    if (run.state === "Failed") outcome.replaceChildren(h("p", { class: "error", role: "alert" }, run.error || "The run failed."));
    if (run.state === "Succeeded") {
      const best = run.output.best;
      outcome.replaceChildren(
        h("p", { testid: "tune-best" }, `Best (${run.output.strategy}): ${best.memory} MB — p50 ${best.p50Ms} ms, ${usd(best.costUsd)} an invocation`),
        h("iframe", { class: "tune-chart", title: `Power tuning chart of ${name}`, testid: "tune-chart",
          src: `/console/api/${fn(name)}/tune/${encodeURIComponent(run.id)}/chart` }),
      );
    }
  };
  const poll = (id) => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      if (!panel.isConnected) return;
      try {
        const run = await api(`${fn(name)}/tune/${encodeURIComponent(id)}`);
        if (!panel.isConnected) return;
        show(run);
        if (run.state === "Running") poll(id);
      } catch (err) {
        tuneError.textContent = errorText(err);
      }
    }, 1000);
  };
  start.addEventListener("click", async () => {
    for (const f of Object.values(fields)) f.error.textContent = "";
    tuneError.textContent = "";
    outcome.replaceChildren();
    try {
      const run = await api(`${fn(name)}/tune`, { method: "POST", body: {
        memory: memory.value, invocations: Number(invocations.value), strategy: strategy.value, payload: payload.value,
      } });
      show(run);
      poll(run.id);
    } catch (err) {
      fieldFor(err.message, [[/memory/i, fields.memory], [/invocations/i, fields.invocations], [/strategy/i, fields.strategy]], tuneError)
        .textContent = errorText(err);
    }
  });
  panel.replaceChildren(
    h("div", { class: "bar" }, h("h2", {}, "Cost"), range),
    h("p", { class: "muted" }, "What these invocations would cost on AWS Lambda: the figures of lamina cost, from the REPORT lines."),
    costError,
    table,
    h("h2", {}, "Power tuning"),
    h("p", { class: "muted" }, "Runs lamina tune in the background: each memory size is published as a version and invoked; $LATEST keeps its memory."),
    h("div", { class: "grid" }, fields.memory.row, fields.invocations.row, fields.strategy.row),
    field("Event JSON", payload).row,
    h("p", {}, start),
    tuneError,
    progress,
    outcome,
  );
  await loadCost();
  try {
    const { run } = await api(`${fn(name)}/tune`);
    if (run) {
      show(run);
      if (run.state === "Running") poll(run.id);
    }
  } catch (err) {
    tuneError.textContent = errorText(err);
  }
}
