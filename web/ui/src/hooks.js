import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/**
 * Runs `load(signal)` now, whenever `deps` change and on `reload()`;
 * an earlier run still in flight is aborted. With `every` (ms) it also
 * reloads on that interval while the page is visible.
 */
export function useLoad(load, deps, { every } = {}) {
  const [state, setState] = useState({ loading: true, value: undefined, error: undefined });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    loadRef.current(ctl.signal).then(
      (value) => !ctl.signal.aborted && setState({ loading: false, value, error: undefined }),
      (error) => !ctl.signal.aborted && error.name !== 'AbortError' && setState({ loading: false, value: undefined, error }),
    );
    return () => ctl.abort();
  }, [...deps, tick]);
  useEffect(() => {
    if (!every) return undefined;
    const id = setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, every);
    return () => clearInterval(id);
  }, [every, reload]);
  return { ...state, reload };
}

/** A value kept in localStorage under `key`. */
export function useStored(key, initial) {
  const [value, setValue] = useState(() => {
    try {
      const s = window.localStorage.getItem(key);
      return s === null ? initial : JSON.parse(s);
    } catch {
      return initial;
    }
  });
  const set = useCallback(
    (v) => {
      setValue(v);
      try {
        window.localStorage.setItem(key, JSON.stringify(v));
      } catch {
        // Storage may be off; the value lives for the page only.
      }
    },
    [key],
  );
  return [value, set];
}
