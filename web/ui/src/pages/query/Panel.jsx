// One query panel: the editor, Execute and Format, the Table and Graph
// tabs with their time controls, and the result, its errors and warnings.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api.js';
import { ErrorBox, Notes } from '../../components/common.jsx';
import { formatDuration, formatUTC, parseDuration, parseUTC } from '../../format.js';
import { Editor } from './Editor.jsx';
import { Graph } from './Graph.jsx';
import { ResultTable } from './ResultTable.jsx';
import { autoStep } from './urlstate.js';

const RANGES = [
  '1m', '5m', '15m', '30m', '1h', '2h', '6h', '12h', '1d', '2d', '1w', '2w', '4w', '8w', '26w', '1y',
].map(parseDuration);

/** The query for `panel`, as `{path, form, window}`. */
function request(panel) {
  const end = panel.end ?? Date.now();
  if (panel.tab === 'table') {
    return { path: 'api/v1/query', form: { query: panel.expr, time: end / 1000 } };
  }
  const step = panel.step ?? autoStep(panel.range);
  const start = end - panel.range;
  return {
    path: 'api/v1/query_range',
    form: { query: panel.expr, start: start / 1000, end: end / 1000, step: step / 1000 },
    window: { start: start / 1000, end: end / 1000, step: step / 1000 },
  };
}

/** A text input that commits on Enter or when it loses focus. */
function CommitInput({ value, onCommit, ...rest }) {
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  const commit = () => {
    if (text !== value) onCommit(text);
  };
  return (
    <input
      type="text"
      value={text}
      onInput={(e) => setText(e.currentTarget.value)}
      onBlur={commit}
      onKeyDown={(e) => e.key === 'Enter' && commit()}
      {...rest}
    />
  );
}

export function Panel({ panel, onChange, onRemove, index }) {
  const [text, setText] = useState(panel.expr);
  // Bumped when the editor's text is replaced from here (Format).
  const [version, setVersion] = useState(0);
  const [runs, setRuns] = useState(0);
  const [out, setOut] = useState(null);
  const [inputError, setInputError] = useState(null);

  const set = (fields) => onChange({ ...panel, ...fields });
  const execute = (expr) => {
    set({ expr });
    setRuns((r) => r + 1);
  };

  useEffect(() => {
    if (panel.expr.trim() === '') {
      setOut(null);
      return undefined;
    }
    const ctl = new AbortController();
    const req = request(panel);
    const started = performance.now();
    setOut((o) => ({ ...o, loading: true }));
    api(req.path, { method: 'POST', form: req.form, signal: ctl.signal }).then(
      (r) => setOut({ ...r, tab: panel.tab, window: req.window, took: performance.now() - started }),
      (error) => error.name !== 'AbortError' && setOut({ error, warnings: error.warnings ?? [] }),
    );
    return () => ctl.abort();
  }, [panel.expr, panel.tab, panel.range, panel.end, panel.step, runs]);

  const format = async () => {
    setInputError(null);
    try {
      const { data } = await api('api/v1/format_query', { params: { query: text } });
      setText(data);
      setVersion((n) => n + 1);
    } catch (error) {
      setInputError(error);
    }
  };

  const shiftRange = (dir) => {
    const i = RANGES.findIndex((r) => r >= panel.range);
    const next = dir < 0 ? RANGES[Math.max((i < 0 ? RANGES.length : i) - 1, 0)] : RANGES[Math.min(i < 0 ? RANGES.length - 1 : RANGES[i] === panel.range ? i + 1 : i, RANGES.length - 1)];
    set({ range: next });
  };
  const shiftEnd = (dir) => {
    const size = panel.tab === 'graph' ? panel.range / 2 : 60 * 1000;
    const next = (panel.end ?? Date.now()) + dir * size;
    set({ end: dir > 0 && next >= Date.now() ? null : next });
  };
  const commitEnd = (t) => {
    if (t.trim() === '') return set({ end: null });
    const ms = parseUTC(t);
    if (ms === null) return setInputError(new Error(`cannot parse "${t}" as a time: use YYYY-MM-DD HH:MM:SS (UTC)`));
    setInputError(null);
    return set({ end: ms });
  };
  const commitRange = (t) => {
    const ms = parseDuration(t);
    if (!ms) return setInputError(new Error(`cannot parse "${t}" as a duration: use e.g. 1h, 30m, 1d12h`));
    setInputError(null);
    return set({ range: ms });
  };
  const commitStep = (t) => {
    if (t.trim() === '') return set({ step: null });
    const s = Number(t.trim().replace(/s$/, ''));
    const ms = Number.isFinite(s) && s > 0 ? s * 1000 : parseDuration(t);
    if (!ms) return setInputError(new Error(`cannot parse "${t}" as a resolution: use seconds (15) or a duration (1m)`));
    setInputError(null);
    return set({ step: ms });
  };

  const seriesCount = Array.isArray(out?.data?.result) ? out.data.result.length : null;

  return (
    <section class="panel" data-panel={index}>
      <div class="panel-query">
        <Editor value={text} version={version} onChange={setText} onRun={execute} label={`Expression ${index + 1}`} />
        <div class="panel-buttons">
          <button class="primary" onClick={() => execute(text)} title="Run the query (Enter)">
            Execute
          </button>
          <button onClick={format} title="Format the expression (/api/v1/format_query)">
            Format
          </button>
          <button class="remove" onClick={onRemove} title="Remove this panel" aria-label="Remove panel">
            ×
          </button>
        </div>
      </div>
      <div class="panel-controls">
        <div class="tabs" role="tablist">
          <button role="tab" aria-selected={panel.tab === 'table'} class={panel.tab === 'table' ? 'tab active' : 'tab'} onClick={() => set({ tab: 'table' })}>
            Table
          </button>
          <button role="tab" aria-selected={panel.tab === 'graph'} class={panel.tab === 'graph' ? 'tab active' : 'tab'} onClick={() => set({ tab: 'graph' })}>
            Graph
          </button>
        </div>
        {panel.tab === 'graph' && (
          <span class="control-group">
            <button onClick={() => shiftRange(-1)} title="Shorter range">−</button>
            <CommitInput class="range-input" size="6" value={formatDuration(panel.range)} onCommit={commitRange} aria-label="Range" title="Range" />
            <button onClick={() => shiftRange(1)} title="Longer range">+</button>
          </span>
        )}
        <span class="control-group">
          <button onClick={() => shiftEnd(-1)} title="Earlier">‹</button>
          <CommitInput
            class="end-input"
            size="19"
            value={panel.end === null ? '' : formatUTC(panel.end)}
            placeholder={panel.tab === 'graph' ? 'End: now (UTC)' : 'Evaluation time: now (UTC)'}
            onCommit={commitEnd}
            aria-label={panel.tab === 'graph' ? 'End time' : 'Evaluation time'}
          />
          <button onClick={() => shiftEnd(1)} title="Later">›</button>
        </span>
        {panel.tab === 'graph' && (
          <>
            <CommitInput
              class="step-input"
              size="10"
              value={panel.step === null ? '' : String(panel.step / 1000)}
              placeholder={`Res. (${autoStep(panel.range) / 1000}s)`}
              onCommit={commitStep}
              aria-label="Resolution in seconds"
              title="Resolution (step) in seconds; empty for automatic"
            />
            <label class="check">
              <input type="checkbox" checked={panel.stacked} onChange={(e) => set({ stacked: e.currentTarget.checked })} /> stacked
            </label>
          </>
        )}
        <span class="stats muted">
          {out?.loading
            ? 'Loading…'
            : out && !out.error && `Load time: ${Math.round(out.took)}ms${seriesCount === null ? '' : ` · Result series: ${seriesCount}`}`}
        </span>
      </div>
      <ErrorBox error={inputError} />
      {out && <ErrorBox error={out.error} />}
      {out && <Notes warnings={out.warnings} infos={out.infos} />}
      {out?.data && !out.error && out.tab === 'table' && panel.tab === 'table' && (
        <ResultTable resultType={out.data.resultType} result={out.data.result} />
      )}
      {out?.data && !out.error && out.tab === 'graph' && panel.tab === 'graph' && (
        out.data.result.length === 0 ? (
          <p class="muted">Empty query result.</p>
        ) : (
          <Graph result={out.data.result} {...out.window} stacked={panel.stacked} />
        )
      )}
      {!out && <p class="muted hint">Enter an expression and press Enter or Execute.</p>}
    </section>
  );
}
