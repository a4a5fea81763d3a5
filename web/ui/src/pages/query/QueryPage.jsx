// The query page: several panels, their state in the URL (`g<n>.*`, as
// Prometheus), so a link reproduces the view.
import { useEffect, useState } from 'preact/hooks';
import { Panel } from './Panel.jsx';
import { decodePanels, encodePanels, newPanel } from './urlstate.js';

function fromURL() {
  const panels = decodePanels(window.location.search);
  return panels.length > 0 ? panels : [newPanel()];
}

export function QueryPage() {
  const [panels, setPanels] = useState(fromURL);

  useEffect(() => {
    const q = encodePanels(panels);
    const target = `${window.location.pathname}?${q}`;
    if (`${window.location.pathname}${window.location.search}` !== target) {
      window.history.replaceState(null, '', target);
    }
  }, [panels]);

  useEffect(() => {
    const on = () => setPanels(fromURL());
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);

  const update = (i, p) => setPanels((ps) => ps.map((old, j) => (j === i ? p : old)));
  const remove = (i) => setPanels((ps) => (ps.length === 1 ? [newPanel()] : ps.filter((_, j) => j !== i)));

  return (
    <div class="query-page">
      {panels.map((p, i) => (
        <Panel key={p.id} index={i} panel={p} onChange={(np) => update(i, np)} onRemove={() => remove(i)} />
      ))}
      <button class="add-panel" onClick={() => setPanels((ps) => [...ps, newPanel()])}>
        Add panel
      </button>
    </div>
  );
}
