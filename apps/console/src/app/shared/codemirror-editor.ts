import { yaml } from '@codemirror/lang-yaml';
import { lintGutter, setDiagnostics } from '@codemirror/lint';
import { EditorView, basicSetup } from 'codemirror';
import { fieldRanges } from './yaml-field-ranges';

/** What the YAML editor component drives; this module (CodeMirror, yaml) is only ever imported dynamically. */
export interface YamlEditorHandle {
  text(): string;
  setText(text: string): void;
  /** The Status causes as lint errors on their fields' nodes; the ranges, for the list under the editor. */
  showCauses(causes: readonly { readonly field?: string; readonly message?: string }[]): { field: string; line: number; message: string }[];
  destroy(): void;
}

const theme = EditorView.theme({
  '&': { border: '1px solid #667085', borderRadius: '4px', fontSize: '.85rem', background: '#fff' },
  '&.cm-focused': { outline: '2px solid #1849a9' },
  '.cm-gutters': { background: '#f2f4f7', color: '#344054' },
  '.cm-content': { minHeight: '18rem' },
});

export function createYamlEditor(parent: HTMLElement, text: string, label: string, onChange: () => void): YamlEditorHandle {
  // A text set by the page (reload, the saved object) is not an edit by the user.
  let setting = false;
  const view = new EditorView({
    parent,
    doc: text,
    extensions: [
      basicSetup,
      yaml(),
      lintGutter(),
      theme,
      EditorView.contentAttributes.of({ 'aria-label': label }),
      EditorView.updateListener.of((update) => {
        if (update.docChanged && !setting) onChange();
      }),
    ],
  });
  return {
    text: () => view.state.doc.toString(),
    setText(next) {
      setting = true;
      try {
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: next } });
      } finally {
        setting = false;
      }
    },
    showCauses(causes) {
      const doc = view.state.doc;
      const ranges = fieldRanges(doc.toString(), causes).map((r) => ({ ...r, from: Math.min(r.from, doc.length), to: Math.min(Math.max(r.to, r.from), doc.length) }));
      view.dispatch(setDiagnostics(view.state, ranges.map((r) => ({ from: r.from, to: r.to, severity: 'error' as const, message: `${r.field}: ${r.message}`, source: 'API' }))));
      return ranges.map((r) => ({ field: r.field, line: doc.lineAt(r.from).number, message: r.message }));
    },
    destroy: () => view.destroy(),
  };
}
