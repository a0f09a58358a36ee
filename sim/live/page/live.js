// itpump live: the page. Plain script, no library, nothing fetched from elsewhere. It reads the
// pump's state from the server's event stream and sends actions as timeline actions; every check
// is the server's (the scenario loader's schema, then the pump itself).
'use strict';

const token = new URLSearchParams(location.search).get('token') || '';
const $ = (id) => document.getElementById(id);
const DAY = 86400000;
const HOUR = 3600000;
const state = { view: null, events: [], trace: [], statechart: [], presses: [], dirty: true };

function pad(n) {
  return String(n).padStart(2, '0');
}

function timeText(ms) {
  const d = Math.floor(ms / DAY);
  let rest = ms - d * DAY;
  const h = Math.floor(rest / HOUR);
  rest -= h * HOUR;
  const m = Math.floor(rest / 60000);
  const s = Math.floor((rest - m * 60000) / 1000);
  return `${d}d ${pad(h)}:${pad(m)}:${pad(s)}`;
}

function url(path) {
  return `${path}${path.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}

async function post(path, body) {
  const res = await fetch(url(path), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return res.json();
}

// ---------------------------------------------------------------------------------------------
// Commands

/** Send an action; a soft limit asks for confirmation, then sends it again confirmed. */
async function send(action, key) {
  const outcome = await post('/command', { action });
  if (outcome.kind === 'confirm') {
    if (!(await confirmSoft(outcome)))
      return showRefusal(['Not sent: the soft limit was not confirmed.']);
    return send({ [key]: { ...action[key], confirm: true } }, key);
  }
  report(outcome);
  return outcome;
}

function confirmSoft(o) {
  $('confirm-text').textContent = `${o.field}: ${o.value} passes the ${o.limit}.`;
  const dialog = $('confirm');
  return new Promise((resolve) => {
    dialog.onclose = () => resolve(dialog.returnValue === 'ok');
    dialog.returnValue = '';
    dialog.showModal();
  });
}

function showRefusal(lines, cls = 'refused') {
  const box = $('refusal');
  box.className = `result ${cls}`;
  box.textContent = lines.join('\n');
}

function report(o) {
  if (o.kind === 'invalid' || o.kind === 'ended' || o.kind === 'error') return showRefusal(o.lines);
  if (o.kind !== 'applied') return;
  const press = o.records.find((r) => r.type === 'pressGranted' || r.type === 'pressDenied');
  if (press) return showPress(press, o);
  if (o.refusals.length > 0)
    return showRefusal(
      o.refusals.map(
        (r) =>
          `Refused: ${r.field.replace(/^timeline\[\d+\]\./, '')} = ${r.value}; limit: ${r.limit} (${r.message})`,
      ),
    );
  const shown = o.records.map((r) => r.type).join(', ');
  showRefusal([`Done at ${timeText(o.atMs)}${shown ? `: ${shown}` : ''}`], 'granted');
}

function showPress(r, o) {
  const box = $('press-result');
  const tone = o.tones.join(', ') || 'no tone';
  if (r.type === 'pressGranted') {
    box.className = 'result granted';
    box.textContent = `Granted at ${timeText(o.atMs)}: ${(r.bolusNl / 1000).toFixed(1)} µL bolus (tone: ${tone})`;
  } else {
    const until = state.view && state.view.lockoutUntilMs;
    const lockout = r.reason === 'lockout' && until ? ` until ${timeText(until)}` : '';
    box.className = 'result denied';
    box.textContent = `Denied at ${timeText(o.atMs)}: ${r.reason}${lockout} (tone: ${tone})`;
  }
  beep(r.type === 'pressGranted');
}

let audio;
function beep(granted) {
  try {
    audio = audio || new AudioContext();
    const notes = granted ? [660, 880] : [220];
    notes.forEach((f, i) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      gain.gain.value = 0.05;
      osc.frequency.value = f;
      osc.connect(gain).connect(audio.destination);
      const at = audio.currentTime + i * 0.12;
      osc.start(at);
      osc.stop(at + (granted ? 0.1 : 0.3));
    });
  } catch {
    // no audio device: the line above says what the pump sounded
  }
}

function lines(text) {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

function prescriptionAction() {
  if ($('rx-mode').value === 'continuous')
    return { program: { prescription: { mode: 'continuous', dose: $('rx-dose').value } } };
  const steps = lines($('rx-steps').value).map((l) => {
    const [at, ...dose] = l.split(/\s+/);
    return { at, dose: dose.join(' ') };
  });
  return { program: { prescription: { mode: 'flex', steps } } };
}

function ptmAction() {
  if ($('ptm-none').checked) return { program: { ptm: null } };
  const max = Number($('ptm-max').value);
  return {
    program: {
      ptm: {
        bolusDose: $('ptm-dose').value,
        bolusDuration: $('ptm-duration').value,
        lockout: $('ptm-lockout').value,
        maxPer24h:
          Number.isFinite(max) && $('ptm-max').value.trim() !== '' ? max : $('ptm-max').value,
      },
    },
  };
}

function refillAction() {
  const mixture = lines($('rf-mixture').value).map((l) => {
    const [drug, ...c] = l.split(/\s+/);
    return { drug, concentration: c.join(' ') };
  });
  const w = $('rf-withdrawn').value.trim();
  return {
    refill: {
      withdrawn: w === '' ? 'auto' : w,
      added: $('rf-added').value,
      ...(mixture.length > 0 ? { mixture, bridge: $('rf-bridge').checked } : {}),
    },
  };
}

function onSubmit(id, make) {
  $(id).addEventListener('submit', (e) => {
    e.preventDefault();
    const action = make();
    send(action, Object.keys(action)[0]);
  });
}

function wireCommands() {
  $('press').onclick = () => send({ press: {} }, 'press');
  $('rx-mode').onchange = () => {
    const flex = $('rx-mode').value === 'flex';
    document.querySelector('.rx-flex').hidden = !flex;
    document.querySelector('.rx-continuous').hidden = flex;
  };
  onSubmit('f-program', prescriptionAction);
  onSubmit('f-ptm', ptmAction);
  onSubmit('f-bolus', () => ({
    clinicianBolus: { dose: $('cb-dose').value, duration: $('cb-duration').value },
  }));
  onSubmit('f-refill', refillAction);
  onSubmit('f-clock', () => ({ setClock: { [$('ck-kind').value]: $('ck-value').value } }));
  onSubmit('f-stall', () => ({ motorStall: { for: $('stall-for').value } }));
  onSubmit('f-sve', () => ({ strokeVolumeError: $('sve').value }));
  $('stop').onclick = () => send({ stop: {} }, 'stop');
  $('resume').onclick = () => send({ resume: {} }, 'resume');
  $('clear').onclick = () => send({ clearAlarms: {} }, 'clearAlarms');
  $('reset').onclick = () => send({ reset: {} }, 'reset');
  $('bat-eri').onclick = () => send({ batteryLevel: 'eri' }, 'batteryLevel');
  $('bat-eos').onclick = () => send({ batteryLevel: 'eos' }, 'batteryLevel');
}

// ---------------------------------------------------------------------------------------------
// Run controls, outputs, keys

async function control(body) {
  const o = await post('/control', body);
  if (o.kind === 'invalid') showRefusal(o.lines);
}

function setSpeed(factor) {
  const options = [...$('speed').options].map((o) => Number(o.value));
  const now = Number($('speed').value);
  const i = options.indexOf(now) + factor;
  if (i < 0 || i >= options.length) return;
  $('speed').value = String(options[i]);
  control({ speed: options[i] });
}

async function takeOutputs() {
  $('downloads').textContent = 'making the outputs…';
  const res = await fetch(url('/snapshot'), { method: 'POST' });
  const s = await res.json();
  if (s.kind === 'error') return ($('downloads').textContent = s.lines.join('\n'));
  const names = ['summary.json', 'events.jsonl', 'trace.csv', 'report.html', 'scenario.yaml'];
  const box = $('downloads');
  box.textContent = `${s.ended ? 'The run' : 'The run so far'}, to ${timeText(s.atMs)}: `;
  for (const n of names) {
    const a = document.createElement('a');
    a.href = url(`/download/${s.id}/${n}`);
    a.download = n;
    a.id = `dl-${n.split('.')[0]}`;
    a.textContent = n;
    box.append(a, ' ');
  }
}

const keys = [
  ['b', 'press the patient button', () => $('press').click()],
  [' ', 'pause / run', () => $('pause').click()],
  ['n', 'step to the next deadline', () => $('step').click()],
  ['+', 'faster', () => setSpeed(1)],
  ['-', 'slower', () => setSpeed(-1)],
  ['s', 'stop the infusion', () => $('stop').click()],
  ['r', 'resume the infusion', () => $('resume').click()],
  ['c', 'clear alarms', () => $('clear').click()],
  ['d', 'take the outputs now', () => $('snapshot').click()],
  ['?', 'this help', () => $('help').showModal()],
];

function wireControls() {
  $('pause').onclick = () => control({ paused: !(state.view && state.view.paused) });
  $('step').onclick = () => control({ step: true, paused: true });
  $('speed').onchange = () => control({ speed: Number($('speed').value) });
  $('end').onclick = () => control({ end: true });
  $('snapshot').onclick = takeOutputs;
  $('help-open').onclick = () => $('help').showModal();
  $('keys').innerHTML = keys
    .map(([k, what]) => `<tr><td><kbd>${k === ' ' ? 'Space' : k}</kbd></td><td>${what}</td></tr>`)
    .join('');
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (
      /^(INPUT|TEXTAREA|SELECT)$/.test(e.target.tagName) ||
      document.querySelector('dialog[open]')
    )
      return;
    const key = keys.find(([k]) => k === e.key || (k === '+' && e.key === '='));
    if (!key) return;
    e.preventDefault();
    key[2]();
  });
}

// ---------------------------------------------------------------------------------------------
// Drawing

function mg(pg) {
  return pg / 1e9;
}

function drawStatus(v) {
  $('now').textContent = timeText(v.nowMs);
  $('rtc').textContent = new Date(v.rtcMs).toISOString().replace('.000Z', 'Z');
  $('pause').textContent = v.ended ? 'Ended' : v.paused ? 'Run' : 'Pause';
  if (document.activeElement !== $('speed')) $('speed').value = String(v.speed);
  const regions = Object.entries(v.regions)
    .map(([k, s]) => `<span id="region-${k}">${k}: <b>${s}</b></span>`)
    .join(' · ');
  const r = v.reservoir;
  $('status').innerHTML =
    `${regions}<br>reservoir ${(r.estimateNl / 1e6).toFixed(3)} mL estimated, ` +
    `${(r.trueNl / 1e6).toFixed(3)} mL true · battery ${v.battery.level}, ` +
    `${(v.battery.remainingUah / 1000).toFixed(0)} mAh · alarms: ${v.alarmLevel}` +
    (v.ended ? ` · <b>the run has ended</b> at ${timeText(v.nowMs)}` : '');
  $('alarms').innerHTML = v.alarms
    .map((a) => `<li class="${a.priority}" data-code="${a.code}">${a.code} (${a.priority})</li>`)
    .join('');
}

function drawStatechart(v) {
  const box = $('chart');
  if (!box.firstChild) {
    box.innerHTML = state.statechart.map(regionHtml).join('');
  }
  for (const el of box.querySelectorAll('.state')) {
    const active = v.regions[el.dataset.region] || '';
    const path = el.dataset.path;
    el.classList.toggle('active', active === path);
    el.classList.toggle('active-parent', active.startsWith(`${path}.`));
  }
}

function regionHtml(region) {
  const byParent = (prefix, depth) =>
    region.states
      .filter((s) => s.depth === depth && s.path.startsWith(prefix))
      .map((s) => {
        const title = s.events.length ? `leaves on ${s.events.join(', ')}` : 'leaves on its own';
        const inner = s.compound ? `: ${byParent(`${s.path}.`, depth + 1)}` : '';
        return `<span class="state${s.compound ? ' compound' : ''}" data-region="${region.name}" data-path="${s.path}" title="${title}">${s.name}${inner}</span>`;
      })
      .join('');
  return `<div class="region"><b>${region.name}</b>${byParent('', 0)}</div>`;
}

/** A line chart in an SVG of 400 × 150: series of [x, y] with a colour, and dashed limits. */
function lineChart(svg, series, limits = [], unit = '') {
  const points = series.flatMap((s) => s.points);
  if (points.length === 0) return void (svg.innerHTML = '<text x="10" y="20">no data yet</text>');
  const xs = points.map((p) => p[0]);
  const x0 = Math.min(...xs);
  const x1 = Math.max(x0 + 1, ...xs);
  const yMax = Math.max(1e-9, ...points.map((p) => p[1]), ...limits.map((l) => l.y)) * 1.05;
  const X = (x) => 40 + ((x - x0) / (x1 - x0)) * 350;
  const Y = (y) => 135 - (y / yMax) * 125;
  const path = (s) =>
    `<polyline fill="none" stroke="${s.colour}" stroke-width="1.5" points="${s.points
      .map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`)
      .join(' ')}"><title>${s.name}</title></polyline>`;
  const limit = (l) =>
    `<line x1="40" x2="390" y1="${Y(l.y)}" y2="${Y(l.y)}" stroke="${l.colour}" stroke-dasharray="4 3"/><text x="392" y="${Y(l.y) + 3}" text-anchor="end">${l.name}</text>`;
  const legend = series
    .map((s, i) => `<text x="${50 + i * 120}" y="9" fill="${s.colour}">■ ${s.name}</text>`)
    .join('');
  svg.innerHTML =
    `<line x1="40" x2="40" y1="10" y2="135" stroke="#999"/><line x1="40" x2="390" y1="135" y2="135" stroke="#999"/>` +
    `<text x="36" y="14" text-anchor="end">${+yMax.toPrecision(2)}${unit}</text><text x="36" y="135" text-anchor="end">0</text>` +
    `<text x="40" y="146">${timeText(x0).slice(0, -3)}</text><text x="390" y="146" text-anchor="end">${timeText(x1).slice(0, -3)}</text>` +
    limits.map(limit).join('') +
    series.map(path).join('') +
    legend;
}

function drawCharts(v) {
  const rows = state.trace;
  const now = [v.nowMs, v.reservoir];
  lineChart($('c-reservoir'), [
    {
      name: 'estimate',
      colour: '#2f6fdf',
      points: [
        ...rows.map((r) => [r.timeMs, r.estimateNl / 1e6]),
        [now[0], now[1].estimateNl / 1e6],
      ],
    },
    {
      name: 'truth',
      colour: '#d9822b',
      points: [...rows.map((r) => [r.timeMs, r.trueNl / 1e6]), [now[0], now[1].trueNl / 1e6]],
    },
  ]);
  drawRolling(v);
  const granted = [];
  const denied = [];
  let g = 0;
  let d = 0;
  for (const e of state.presses) {
    if (e.type === 'pressGranted') granted.push([e.atMs, ++g]);
    else denied.push([e.atMs, ++d]);
  }
  granted.push([v.nowMs, g]);
  denied.push([v.nowMs, d]);
  lineChart($('c-presses'), [
    { name: `granted ${g}`, colour: '#17702e', points: [[0, 0], ...granted] },
    { name: `denied ${d}`, colour: '#b3261e', points: [[0, 0], ...denied] },
  ]);
}

/** Per drug: the dose of the last 24 h (from the hourly trace) against the soft and hard maxima. */
function drawRolling(v) {
  const box = $('c-rolling');
  for (const drug of v.rolling24h) {
    let svg = box.querySelector(`svg[data-drug="${drug.drug}"]`);
    if (!svg) {
      svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
      svg.setAttribute('viewBox', '0 0 400 150');
      svg.dataset.drug = drug.drug;
      box.append(svg);
    }
    const rows = state.trace;
    const points = [];
    let j = 0;
    for (const r of rows) {
      while (j < rows.length && rows[j].timeMs < r.timeMs - DAY) j++;
      const back = j > 0 ? rows[j - 1] : { deliveredPg: {} };
      points.push([
        r.timeMs,
        mg((r.deliveredPg[drug.drug] || 0) - (back.deliveredPg[drug.drug] || 0)),
      ]);
    }
    points.push([v.nowMs, mg(drug.pg)]);
    const limits = [];
    if (drug.softNg !== null)
      limits.push({ name: 'soft', y: drug.softNg / 1e6, colour: '#d9822b' });
    if (drug.hardNg !== null)
      limits.push({ name: 'hard', y: drug.hardNg / 1e6, colour: '#b3261e' });
    lineChart(svg, [{ name: `${drug.drug}, mg`, colour: '#6b4fbb', points }], limits, ' mg');
  }
}

function logLine(e) {
  const { type, atMs, seq: _seq, rtcMs: _rtc, ...rest } = e;
  const li = document.createElement('li');
  li.className = type;
  li.textContent = `${timeText(atMs)} ${type} ${JSON.stringify(rest)}`;
  return li;
}

function addEvents(events) {
  const log = $('log');
  const fragment = document.createDocumentFragment();
  for (const e of events) {
    state.events.push(e);
    if (e.type === 'pressGranted' || e.type === 'pressDenied') state.presses.push(e);
  }
  for (const e of events.slice(-300).reverse()) fragment.append(logLine(e));
  log.prepend(fragment);
  while (log.children.length > 300) log.lastChild.remove();
}

let lastChartDraw = 0;
function draw(force) {
  const v = state.view;
  if (!v) return;
  drawStatus(v);
  drawStatechart(v);
  if (force || performance.now() - lastChartDraw > 400) {
    lastChartDraw = performance.now();
    drawCharts(v);
  }
}

// ---------------------------------------------------------------------------------------------
// The stream

function connect() {
  const source = new EventSource(url('/events'));
  source.addEventListener('hello', (m) => {
    const hello = JSON.parse(m.data);
    $('scenario').textContent = `${hello.scenario} (seed ${hello.seed})`;
    state.statechart = hello.statechart;
    state.events = [];
    state.presses = [];
    $('log').innerHTML = '';
    $('chart').innerHTML = '';
    state.trace = hello.trace;
    addEvents(hello.events);
    state.view = hello.view;
    $('conn').textContent = 'connected';
    $('conn').className = 'conn ok';
    draw(true);
  });
  source.addEventListener('update', (m) => {
    const u = JSON.parse(m.data);
    if (u.events.length > 0) addEvents(u.events);
    if (u.trace.length > 0) state.trace.push(...u.trace);
    state.view = u.view;
    draw(u.events.length > 0);
  });
  source.onerror = () => {
    $('conn').textContent = 'connection lost: retrying…';
    $('conn').className = 'conn lost';
  };
}

wireCommands();
wireControls();
connect();
