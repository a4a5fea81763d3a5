// Values in Grafana's units (`fieldConfig.defaults.unit`), formatted as
// Grafana's value formats do for the common ones: SI and binary scales,
// percentages, times and rates. Unknown units print the number with the
// unit's name after it.

const SI = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
const SI_SMALL = ['', 'm', 'µ', 'n'];
const IEC = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

function fixed(v, decimals) {
  if (decimals !== undefined && decimals !== null) return v.toFixed(decimals);
  const a = Math.abs(v);
  const d = a === 0 || a >= 100 ? 0 : a >= 10 ? 1 : 2;
  return String(Number(v.toFixed(d)));
}

function scaled(v, base, prefixes, unit, decimals, sep = ' ') {
  let i = 0;
  let x = v;
  while (Math.abs(x) >= base && i < prefixes.length - 1) {
    x /= base;
    i++;
  }
  return `${fixed(x, decimals)}${sep}${prefixes[i]}${unit}`;
}

/** `short`: 1.5 K, 3.2 Mil, as Grafana's. */
function short(v, decimals) {
  const units = ['', ' K', ' Mil', ' Bil', ' Tri'];
  let i = 0;
  let x = v;
  while (Math.abs(x) >= 1000 && i < units.length - 1) {
    x /= 1000;
    i++;
  }
  return `${fixed(x, decimals)}${units[i]}`;
}

/** SI with small prefixes too (`1.5 ms`, `300 µs` are for seconds below). */
function si(v, unit, decimals) {
  if (v !== 0 && Math.abs(v) < 1) {
    let i = 0;
    let x = v;
    while (Math.abs(x) < 1 && i < SI_SMALL.length - 1) {
      x *= 1000;
      i++;
    }
    return `${fixed(x, decimals)} ${SI_SMALL[i]}${unit}`;
  }
  return scaled(v, 1000, SI, unit, decimals);
}

function seconds(v, decimals) {
  const a = Math.abs(v);
  if (a === 0) return '0 s';
  if (a < 1e-6) return `${fixed(v * 1e9, decimals)} ns`;
  if (a < 1e-3) return `${fixed(v * 1e6, decimals)} µs`;
  if (a < 1) return `${fixed(v * 1e3, decimals)} ms`;
  if (a < 60) return `${fixed(v, decimals)} s`;
  if (a < 3600) return `${fixed(v / 60, decimals)} min`;
  if (a < 86400) return `${fixed(v / 3600, decimals)} hour`;
  if (a < 86400 * 365) return `${fixed(v / 86400, decimals)} day`;
  return `${fixed(v / (86400 * 365), decimals)} year`;
}

const FORMATS = {
  none: (v, d) => fixed(v, d),
  short,
  percent: (v, d) => `${fixed(v, d)}%`,
  percentunit: (v, d) => `${fixed(v * 100, d)}%`,
  bytes: (v, d) => scaled(v, 1024, IEC, 'B', d),
  decbytes: (v, d) => scaled(v, 1000, SI, 'B', d),
  bits: (v, d) => scaled(v, 1024, IEC, 'b', d),
  decbits: (v, d) => scaled(v, 1000, SI, 'b', d),
  kbytes: (v, d) => scaled(v * 1024, 1024, IEC, 'B', d),
  Bps: (v, d) => scaled(v, 1024, IEC, 'B/s', d),
  binBps: (v, d) => scaled(v, 1024, IEC, 'B/s', d),
  bps: (v, d) => scaled(v, 1000, SI, 'b/s', d),
  binbps: (v, d) => scaled(v, 1024, IEC, 'b/s', d),
  pps: (v, d) => scaled(v, 1000, SI, 'p/s', d),
  ops: (v, d) => scaled(v, 1000, SI, 'ops/s', d),
  reqps: (v, d) => scaled(v, 1000, SI, 'req/s', d),
  rps: (v, d) => scaled(v, 1000, SI, 'rd/s', d),
  wps: (v, d) => scaled(v, 1000, SI, 'wr/s', d),
  iops: (v, d) => scaled(v, 1000, SI, 'io/s', d),
  eps: (v, d) => scaled(v, 1000, SI, 'evt/s', d),
  hertz: (v, d) => si(v, 'Hz', d),
  s: seconds,
  ms: (v, d) => seconds(v / 1000, d),
  µs: (v, d) => seconds(v / 1e6, d),
  ns: (v, d) => seconds(v / 1e9, d),
  dtdurations: seconds,
  celsius: (v, d) => `${fixed(v, d)}°C`,
  rotrpm: (v, d) => `${fixed(v, d)} rpm`,
  volt: (v, d) => si(v, 'V', d),
  watt: (v, d) => si(v, 'W', d),
  amp: (v, d) => si(v, 'A', d),
  bool: (v) => (v === 0 ? 'False' : 'True'),
  bool_yes_no: (v) => (v === 0 ? 'No' : 'Yes'),
  bool_on_off: (v) => (v === 0 ? 'Off' : 'On'),
};

/** `v` (a number or Prometheus' value string) in `unit`, as text. */
export function formatUnit(v, unit, decimals) {
  const n = typeof v === 'number' ? v : Number.parseFloat(v);
  if (Number.isNaN(n)) return String(v);
  if (!Number.isFinite(n)) return n > 0 ? '+Inf' : '-Inf';
  const f = FORMATS[unit ?? 'short'];
  if (f) return f(n, decimals);
  if (unit?.startsWith('suffix:')) return `${fixed(n, decimals)}${unit.slice(7)}`;
  if (unit?.startsWith('prefix:')) return `${unit.slice(7)}${fixed(n, decimals)}`;
  return `${short(n, decimals)} ${unit}`;
}
