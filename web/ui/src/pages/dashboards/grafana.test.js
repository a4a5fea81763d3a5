// `npm test` (node --test): Grafana's query rewriting as grafana.js does it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  customOptions,
  interpolate,
  intervalMs,
  intervals,
  legendName,
  parseTime,
  parseVariableQuery,
  queryResultText,
  refineValues,
  roundInterval,
} from './grafana.js';

test('roundInterval follows Grafana table', () => {
  const cases = [
    [5, 1],
    [900, 1000],
    [12500, 10000],
    [12501, 15000],
    [17500, 15000],
    [30000, 30000],
    [86400000 / 1440, 60000],
    [3 * 3600000, 3 * 3600000],
    [5000000, 3600000],
    [4e9, 31536000000],
  ];
  for (const [ms, want] of cases) assert.equal(roundInterval(ms), want, `${ms}`);
});

test('$__interval, $__rate_interval and $__range for a 24h panel 1200px wide', () => {
  // 86400s / 1200 points = 72s → rounded to 1m; scrape interval 15s.
  const { stepMs, vars } = intervals({ rangeMs: 86400000, points: 1200, scrapeS: 15 });
  assert.equal(stepMs, 60000);
  assert.deepEqual(vars, {
    __interval: '1m',
    __interval_ms: '60000',
    // max(60s + 15s, 4 × 15s)
    __rate_interval: '75s',
    __range: '86400s',
    __range_s: '86400',
    __range_ms: '86400000',
  });
});

test('short ranges: the scrape interval is the floor, and 4× it the rate window', () => {
  const { stepMs, vars } = intervals({ rangeMs: 300000, points: 1000, scrapeS: 1 });
  // 300ms rounds to 200ms, below the 1s scrape interval.
  assert.equal(stepMs, 1000);
  assert.equal(vars.__rate_interval, '4s');
  // A panel min interval and a query min step win.
  const panel = intervals({ rangeMs: 300000, points: 1000, panelMin: '>10s', scrapeS: 1 });
  assert.equal(panel.stepMs, 10000);
  const target = intervals({ rangeMs: 300000, points: 1000, targetMin: '30s', scrapeS: 15 });
  assert.equal(target.stepMs, 30000);
  // The query's min step is the scrape interval of $__rate_interval.
  assert.equal(target.vars.__rate_interval, '2m');
});

test('at most 11000 points a series', () => {
  const { stepMs } = intervals({ rangeMs: 365 * 86400000, points: 1e9, scrapeS: 1 });
  assert.equal(stepMs, Math.ceil((365 * 86400000) / 11000 / 1000) * 1000);
});

test('variables: single, multi, all, formats and built-ins', () => {
  const vars = {
    job: { values: ['node'], options: ['node'], multi: false, includeAll: false },
    inst: { values: ['a.b:9100', 'c:9100'], options: [], multi: true, includeAll: false },
    dev: { values: [], options: ['sda', 'sdb'], all: true, multi: false, includeAll: true },
    star: { values: [], options: ['x'], all: true, allValue: '.*', multi: true, includeAll: true },
    __rate_interval: '75s',
  };
  assert.equal(
    interpolate('rate(x{job="$job",instance=~"${inst}",device=~"[[dev]]",s=~"$star"}[$__rate_interval])', vars),
    'rate(x{job="node",instance=~"(a\\\\.b:9100|c:9100)",device=~"(sda|sdb)",s=~".*"}[75s])',
  );
  assert.equal(interpolate('${inst:pipe} ${inst:csv} $unknown', vars), 'a.b:9100|c:9100 a.b:9100,c:9100 $unknown');
  assert.equal(interpolate("it's $q", { q: { values: ["a'b"], options: [], multi: false } }), "it's a\\\\'b");
});

test('variable queries', () => {
  assert.deepEqual(parseVariableQuery('label_values(job)'), { kind: 'label_values', label: 'job' });
  assert.deepEqual(parseVariableQuery('label_values(node_uname_info{job="node", x=~"a,b"}, instance)'), {
    kind: 'label_values',
    metric: 'node_uname_info{job="node", x=~"a,b"}',
    label: 'instance',
  });
  assert.deepEqual(parseVariableQuery('query_result(topk(3, up))'), { kind: 'query_result', expr: 'topk(3, up)' });
  assert.deepEqual(parseVariableQuery('metrics(node_.*)'), { kind: 'metrics', regex: 'node_.*' });
  assert.equal(
    queryResultText({ metric: { __name__: 'up', job: 'x' }, value: [1700000000.5, '1'] }),
    'up{job="x"} 1 1700000000500',
  );
  assert.deepEqual(refineValues(['up{instance="b:1"} 1 0', 'up{instance="a:1"} 1 0'], '/instance="([^"]+)"/', 1), ['a:1', 'b:1']);
  assert.deepEqual(refineValues(['10', '9', '10'], null, 3), ['9', '10']);
  assert.deepEqual(customOptions('a, b,Text : v, c\\,d'), [
    { text: 'a', value: 'a' },
    { text: 'b', value: 'b' },
    { text: 'Text', value: 'v' },
    { text: 'c,d', value: 'c,d' },
  ]);
});

test('legends, times and intervals', () => {
  assert.equal(legendName('{{device}} - {{ mode }}', { device: 'sda', mode: 'read' }), 'sda - read');
  assert.equal(legendName('__auto', {}), null);
  assert.equal(legendName(undefined, {}), null);
  const now = Date.UTC(2024, 4, 1, 12, 34, 56);
  assert.equal(parseTime('now', now), now);
  assert.equal(parseTime('now-24h', now), now - 86400000);
  assert.equal(parseTime('now/d', now), Date.UTC(2024, 4, 1));
  assert.equal(intervalMs('1m30s'), 90000);
  assert.equal(intervalMs('>15s'), 15000);
  assert.equal(intervalMs(''), null);
});
