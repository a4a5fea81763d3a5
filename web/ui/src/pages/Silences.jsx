// Silences of Pharos' Alertmanager (/api/v2/silences): list by state,
// create (prefilled from an alert's labels: `?m=name="value"`), edit,
// expire; who made each and why.
import { useEffect, useState } from 'preact/hooks';
import { amAPI } from '../api.js';
import { Ago, ErrorBox, Loading, Missing, Pill } from '../components/common.jsx';
import { formatDuration, formatUTC, parseDuration, parseUTC } from '../format.js';
import { useLoad, useStored } from '../hooks.js';

const STATES = ['active', 'pending', 'expired'];
const OPS = ['=', '!=', '=~', '!~'];

/** `name="value"` (any of the four operators) → a v2 matcher, or null. */
export function parseMatcher(text) {
  const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(".*")\s*$/.exec(text);
  if (!m) return null;
  let value;
  try {
    value = JSON.parse(m[3]);
  } catch {
    return null;
  }
  return { name: m[1], value, isRegex: m[2].includes('~'), isEqual: !m[2].startsWith('!') };
}

function op(m) {
  return `${m.isEqual === false ? '!' : '='}${m.isRegex ? '~' : m.isEqual === false ? '=' : ''}`;
}

export function matcherText(m) {
  return `${m.name}${op(m)}${JSON.stringify(m.value)}`;
}

function emptyForm(matchers) {
  return {
    id: undefined,
    matchers: matchers.length > 0 ? matchers : [{ name: '', value: '', isRegex: false, isEqual: true }],
    start: '',
    duration: '2h',
    comment: '',
  };
}

function formFrom(s) {
  const start = Date.parse(s.startsAt);
  const end = Date.parse(s.endsAt);
  const now = Date.now();
  return {
    id: s.status?.state === 'expired' ? undefined : s.id,
    matchers: s.matchers.map((m) => ({ isEqual: true, ...m })),
    start: start > now ? formatUTC(start) : '',
    duration: formatDuration(Math.max(end - Math.max(start, now), 60000)),
    comment: s.comment ?? '',
  };
}

function SilenceForm({ initial, onDone, onCancel }) {
  const [form, setForm] = useState(initial);
  const [author, setAuthor] = useStored('silences.author', '');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setForm(initial), [initial]);

  const setMatcher = (i, fields) => setForm({ ...form, matchers: form.matchers.map((m, j) => (j === i ? { ...m, ...fields } : m)) });

  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const matchers = form.matchers.filter((m) => m.name.trim() !== '');
    if (matchers.length === 0) return setError(new Error('a silence needs at least one matcher'));
    const start = form.start.trim() === '' ? Date.now() : parseUTC(form.start);
    if (start === null) return setError(new Error(`cannot parse start "${form.start}": use YYYY-MM-DD HH:MM:SS (UTC)`));
    const duration = parseDuration(form.duration);
    if (!duration) return setError(new Error(`cannot parse duration "${form.duration}": use e.g. 2h, 1d`));
    if (author.trim() === '') return setError(new Error('say who creates the silence'));
    if (form.comment.trim() === '') return setError(new Error('say why (comment)'));
    const body = {
      matchers: matchers.map((m) => ({ name: m.name.trim(), value: m.value, isRegex: m.isRegex, isEqual: m.isEqual })),
      startsAt: new Date(start).toISOString(),
      endsAt: new Date(start + duration).toISOString(),
      createdBy: author.trim(),
      comment: form.comment,
    };
    if (form.id) body.id = form.id;
    setBusy(true);
    try {
      const r = await amAPI('api/v2/silences', { method: 'POST', json: body });
      onDone(r?.silenceID);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
    return undefined;
  };

  return (
    <form class="form silence-form" onSubmit={submit}>
      <h2>{form.id ? 'Edit silence' : 'New silence'}</h2>
      {form.matchers.map((m, i) => (
        <div class="matcher" key={i}>
          <input aria-label="Label name" placeholder="label" value={m.name} onInput={(e) => setMatcher(i, { name: e.currentTarget.value })} />
          <select
            aria-label="Operator"
            value={op(m)}
            onChange={(e) => {
              const o = e.currentTarget.value;
              setMatcher(i, { isEqual: !o.startsWith('!'), isRegex: o.endsWith('~') });
            }}
          >
            {OPS.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
          <input aria-label="Value" placeholder="value" value={m.value} onInput={(e) => setMatcher(i, { value: e.currentTarget.value })} />
          <button type="button" onClick={() => setForm({ ...form, matchers: form.matchers.filter((_, j) => j !== i) })} aria-label="Remove matcher">
            ×
          </button>
        </div>
      ))}
      <div class="row">
        <button type="button" onClick={() => setForm({ ...form, matchers: [...form.matchers, { name: '', value: '', isRegex: false, isEqual: true }] })}>
          Add matcher
        </button>
      </div>
      <div class="row">
        <label for="silence-start">Start (UTC)</label>
        <input id="silence-start" placeholder="now" value={form.start} onInput={(e) => setForm({ ...form, start: e.currentTarget.value })} />
        <label for="silence-duration">Duration</label>
        <input id="silence-duration" size="8" value={form.duration} onInput={(e) => setForm({ ...form, duration: e.currentTarget.value })} />
      </div>
      <div class="row">
        <label for="silence-author">Created by</label>
        <input id="silence-author" value={author} onInput={(e) => setAuthor(e.currentTarget.value)} />
      </div>
      <div class="row">
        <label for="silence-comment">Comment</label>
        <textarea id="silence-comment" value={form.comment} onInput={(e) => setForm({ ...form, comment: e.currentTarget.value })} />
      </div>
      <ErrorBox error={error} />
      <div class="row">
        <button class="primary" type="submit" disabled={busy}>
          {form.id ? 'Update' : 'Create'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function prefilled() {
  return new URLSearchParams(window.location.search)
    .getAll('m')
    .map(parseMatcher)
    .filter(Boolean);
}

export function SilencesPage() {
  const list = useLoad((signal) => amAPI('api/v2/silences', { signal }), [], { every: 30000 });
  const [state, setState] = useState('active');
  const [text, setText] = useState('');
  const [form, setForm] = useState(() => (prefilled().length > 0 ? emptyForm(prefilled()) : null));
  const [error, setError] = useState(null);

  const silences = Array.isArray(list.value) ? list.value : [];
  const counts = Object.fromEntries(STATES.map((s) => [s, silences.filter((x) => x.status?.state === s).length]));
  const words = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const shown = silences
    .filter((s) => s.status?.state === state)
    .filter((s) => {
      const hay = [s.createdBy, s.comment, s.id, ...s.matchers.map(matcherText)].join(' ').toLowerCase();
      return words.every((w) => hay.includes(w));
    })
    .sort((a, b) => Date.parse(a.endsAt) - Date.parse(b.endsAt));

  const done = () => {
    setForm(null);
    if (window.location.search) window.history.replaceState(null, '', window.location.pathname);
    list.reload();
  };

  const expire = async (s) => {
    setError(null);
    try {
      await amAPI(`api/v2/silence/${encodeURIComponent(s.id)}`, { method: 'DELETE' });
      list.reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <div class="silences-page">
      <h1>Silences</h1>
      {form ? (
        <SilenceForm initial={form} onDone={done} onCancel={done} />
      ) : (
        <div class="toolbar">
          <button class="primary" onClick={() => setForm(emptyForm([]))}>
            New silence
          </button>
        </div>
      )}
      <div class="toolbar">
        <div class="tabs" role="tablist">
          {STATES.map((s) => (
            <button key={s} role="tab" aria-selected={state === s} class={state === s ? 'tab active' : 'tab'} onClick={() => setState(s)}>
              {s} ({counts[s]})
            </button>
          ))}
        </div>
        <input type="search" placeholder="Filter by matcher, author or comment" value={text} onInput={(e) => setText(e.currentTarget.value)} aria-label="Filter silences" />
      </div>
      <ErrorBox error={error} />
      <Missing error={list.error} what="silences (the Alertmanager API)" />
      {!list.value && <Loading loading={list.loading} error={list.error} what="silences" />}
      {list.value && shown.length === 0 && <p class="muted">No {state} silences.</p>}
      {shown.length > 0 && (
        <table class="data silences stack">
          <thead>
            <tr>
              <th>Matchers</th>
              <th>State</th>
              <th>Starts</th>
              <th>Ends</th>
              <th>Created by</th>
              <th>Comment</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {shown.map((s) => (
              <tr key={s.id} class="silence">
                <td>
                  <span class="labels">
                    {s.matchers.map((m, i) => (
                      <span class="label" key={i}>
                        {matcherText(m)}
                      </span>
                    ))}
                  </span>
                  <div class="muted mono small">{s.id}</div>
                </td>
                <td>
                  <Pill kind={s.status?.state === 'active' ? 'firing' : s.status?.state === 'pending' ? 'pending' : 'neutral'}>{s.status?.state}</Pill>
                </td>
                <td>
                  <Ago time={s.startsAt} />
                </td>
                <td>
                  <Ago time={s.endsAt} />
                </td>
                <td>{s.createdBy}</td>
                <td class="comment">{s.comment}</td>
                <td class="actions">
                  {s.status?.state !== 'expired' && <button onClick={() => setForm(formFrom(s))}>Edit</button>}{' '}
                  {s.status?.state !== 'expired' && <button onClick={() => expire(s)}>Expire</button>}
                  {s.status?.state === 'expired' && <button onClick={() => setForm(formFrom(s))}>Recreate</button>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
