// OBSA HMI dashboard: renders the events of /api/events (no library, no build step).
"use strict";
const token = new URLSearchParams(location.search).get("token");
const q = token ? "?token=" + encodeURIComponent(token) : "";
const $ = (id) => document.getElementById(id);
const FORMAT = {
  hmi_pack_soc: (v) => (100 * v).toFixed(1) + " %",
  hmi_soh_capacity: (v) => (100 * v).toFixed(1) + " %",
  hmi_pack_voltage_V: (v) => v.toFixed(1) + " V",
  hmi_pack_current_A: (v) => v.toFixed(1) + " A",
  hmi_charge_current_limit_A: (v) => v.toFixed(1) + " A",
  hmi_discharge_current_limit_A: (v) => v.toFixed(1) + " A",
  hmi_snapshot_time_s: (v) => v.toFixed(1) + " s",
};

function bars(id, values, limits, quantity, unit) {
  const lo = limits[quantity + "_min_msl_" + unit], hi = limits[quantity + "_max_msl_" + unit];
  const wlo = limits[quantity + "_min_mol_" + unit], whi = limits[quantity + "_max_mol_" + unit];
  const min = Math.min(lo, ...values) - 0.05 * (hi - lo), max = Math.max(hi, ...values) + 0.05 * (hi - lo);
  const el = $(id);
  el.textContent = "";
  for (const v of values) {
    const b = document.createElement("div");
    b.className = "bar" + (v >= hi || v <= lo ? " fault" : v >= whi || v <= wlo ? " warn" : "");
    b.style.height = (100 * (v - min) / (max - min)).toFixed(1) + "%";
    b.title = v.toFixed(3);
    el.appendChild(b);
  }
  for (const [name, v, colour] of [["max", hi, "#d22"], ["min", lo, "#d22"], ["max warn", whi, "#e90"], ["min warn", wlo, "#e90"]]) {
    const l = document.createElement("div");
    l.className = "limit";
    l.style.borderColor = colour;
    l.style.bottom = (100 * (v - min) / (max - min)).toFixed(1) + "%";
    l.textContent = name + " " + v;
    el.appendChild(l);
  }
  return Math.min(...values).toFixed(3) + " … " + Math.max(...values).toFixed(3) + " " + (unit === "V" ? "V" : "°C");
}

function render(data) {
  const s = data.snapshot;
  for (const [k, v] of Object.entries(s)) {
    const el = $(k);
    if (!el) continue;
    el.textContent = (k + "_name") in s ? s[k + "_name"] : FORMAT[k] ? FORMAT[k](v) : String(v);
  }
  const c = data.cells;
  $("cell_voltage_range").textContent = bars("cell_voltage_V", c.hmi_cell_voltage_V, c.limits, "cell_voltage", "V");
  $("cell_temperature_range").textContent = bars("cell_temperature_degC", c.hmi_cell_temperature_degC, c.limits, "discharge_temperature", "degC");
  const active = data.faults.dtcs.filter((d) => d.status_name === "active");
  const list = $("active_faults");
  list.textContent = "";
  for (const d of active.length ? active : [null]) {
    const li = document.createElement("li");
    li.textContent = d ? d.dtc + " " + d.component + ": " + d.fault + " (" + d.severity + ")" : "none";
    if (d) li.className = "fault-" + d.fault;
    list.appendChild(li);
  }
  const mem = $("fault_memory");
  mem.textContent = "";
  for (const d of data.faults.dtcs) {
    const tr = document.createElement("tr");
    tr.className = d.status_name;
    for (const v of [d.dtc, d.component, d.fault, d.severity, d.status_name]) {
      const td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
    }
    mem.appendChild(tr);
  }
  const a = $("annex_vii");
  a.textContent = "";
  for (const [k, v] of Object.entries(data.annex_vii)) {
    const tr = document.createElement("tr");
    const th = document.createElement("th"); th.textContent = k;
    const td = document.createElement("td"); td.textContent = typeof v === "number" ? +v.toPrecision(6) : v;
    tr.append(th, td); a.appendChild(tr);
  }
  $("status").textContent = "live, snapshot " + data.sequence;
  $("status").className = "label";
  document.body.dataset.sequence = data.sequence;
}

const source = new EventSource("api/events" + q);
source.addEventListener("snapshot", (e) => render(JSON.parse(e.data)));
source.onerror = () => { $("status").textContent = "disconnected, retrying…"; $("status").className = "label stale"; };
