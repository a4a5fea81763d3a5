// The expression editor: CodeMirror 6 with PromQL highlighting, linting
// and autocompletion of functions, metric names, label names and values
// from Pharos' own API (@prometheus-io/codemirror-promql).
import { useEffect, useRef } from 'preact/hooks';
import { EditorState, Prec } from '@codemirror/state';
import { EditorView, drawSelection, highlightSpecialChars, keymap, placeholder } from '@codemirror/view';
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap, insertNewlineAndIndent } from '@codemirror/commands';
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { lintKeymap } from '@codemirror/lint';
import { PromQLExtension } from '@prometheus-io/codemirror-promql';
import { rootURL } from '../../base.js';

let promql;

/** One PromQL extension for all editors: they share its metadata cache. */
function promqlExtension() {
  if (!promql) {
    promql = new PromQLExtension().setComplete({
      remote: {
        url: rootURL().href.replace(/\/$/, ''),
        httpErrorHandler: (e) => console.warn('autocompletion:', e),
        cache: { maxAge: 60 * 1000 },
      },
    });
  }
  return promql.asExtension();
}

/**
 * The nonce the server put in the page for its style elements (the
 * Content-Security-Policy allows no other inline styles), if any.
 */
function cspNonce() {
  const n = document.querySelector('meta[name="csp-nonce"]')?.getAttribute('content') ?? '';
  return /^[0-9a-f]{16,}$/.test(n) ? n : null;
}

/**
 * `value` is the text to start with, and replaces the editor's text
 * whenever `version` changes (a change from outside, such as Format:
 * echoing typed text back would race the typist); `onChange(text)`
 * follows typing; `onRun(text)` on Enter (Shift-Enter breaks the line).
 */
export function Editor({ value, version = 0, onChange, onRun, label }) {
  const host = useRef(null);
  const view = useRef(null);
  const cb = useRef({ onChange, onRun });
  cb.current = { onChange, onRun };

  useEffect(() => {
    const run = (v) => {
      cb.current.onRun(v.state.doc.toString());
      return true;
    };
    const state = EditorState.create({
      doc: value,
      extensions: [
        cspNonce() ? EditorView.cspNonce.of(cspNonce()) : [],
        history(),
        drawSelection(),
        highlightSpecialChars(),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        autocompletion(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        placeholder('Expression (press Shift+Enter for newlines)'),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ 'aria-label': label ?? 'Expression' }),
        Prec.high(
          keymap.of([
            { key: 'Enter', run },
            { key: 'Shift-Enter', run: insertNewlineAndIndent },
          ]),
        ),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...completionKeymap, ...lintKeymap]),
        promqlExtension(),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) cb.current.onChange(u.state.doc.toString());
        }),
      ],
    });
    view.current = new EditorView({ state, parent: host.current });
    return () => view.current.destroy();
  }, []);

  const shown = useRef(version);
  useEffect(() => {
    const v = view.current;
    if (!v || shown.current === version) return;
    shown.current = version;
    if (v.state.doc.toString() !== value) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: value } });
    }
  }, [version]);

  return <div class="editor" ref={host} />;
}
