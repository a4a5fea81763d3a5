// An instant query's result as a table: one row per series with its
// labels and value (or values, for a range vector). Text only.
import { formatUTC, seriesName } from '../../format.js';

const MAX_ROWS = 10000;

function histogramText(h) {
  if (!h) return '';
  return `count=${h.count} sum=${h.sum}`;
}

export function ResultTable({ resultType, result }) {
  if (resultType === 'scalar' || resultType === 'string') {
    return (
      <table class="data result">
        <tbody>
          <tr>
            <td class="muted">{resultType}</td>
            <td class="value">{String(result?.[1])}</td>
          </tr>
        </tbody>
      </table>
    );
  }
  if (!Array.isArray(result) || result.length === 0) {
    return <p class="muted">Empty query result.</p>;
  }
  const rows = result.slice(0, MAX_ROWS);
  return (
    <>
      {result.length > MAX_ROWS && (
        <p class="warning">
          Showing {MAX_ROWS} of {result.length} series.
        </p>
      )}
      <table class="data result">
        <tbody>
          {rows.map((s, i) => (
            <tr key={i}>
              <td class="series-name">{seriesName(s.metric)}</td>
              <td class="value">
                {resultType === 'vector'
                  ? s.histogram
                    ? histogramText(s.histogram[1])
                    : String(s.value?.[1])
                  : [...(s.values ?? []), ...(s.histograms ?? []).map(([t, h]) => [t, histogramText(h)])].map(
                      ([t, v], j) => (
                        <div key={j}>
                          {String(v)} <span class="muted">@{t} ({formatUTC(t * 1000)})</span>
                        </div>
                      ),
                    )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
