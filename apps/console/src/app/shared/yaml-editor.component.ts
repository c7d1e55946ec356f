import { ChangeDetectionStrategy, Component, DestroyRef, effect, ElementRef, inject, input, output, signal, viewChild } from '@angular/core';
import type { YamlEditorHandle } from './codemirror-editor';

export interface FieldLine {
  readonly field: string;
  readonly line: number;
  readonly message: string;
}

/**
 * A YAML editor (CodeMirror 6), loaded on first use: CodeMirror and the yaml parser come in their
 * own chunk (dynamic import), never in the console's initial bundle. The Status causes it is
 * given show as lint errors on their fields.
 */
@Component({
  selector: 'pl-yaml-editor',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (!ready()) { <p>Loading the editor…</p> }
    <div #host data-testid="yaml-editor"></div>
  `,
})
export class YamlEditorComponent {
  readonly text = input.required<string>();
  readonly label = input('YAML');
  readonly edited = output<void>();
  protected readonly ready = signal(false);
  private readonly host = viewChild.required<ElementRef<HTMLElement>>('host');
  private handle: YamlEditorHandle | undefined;

  constructor() {
    let destroyed = false;
    inject(DestroyRef).onDestroy(() => {
      destroyed = true;
      this.handle?.destroy();
    });
    effect(async () => {
      const text = this.text();
      if (this.handle) {
        if (this.handle.text() !== text) this.handle.setText(text);
        return;
      }
      const { createYamlEditor } = await import('./codemirror-editor');
      if (destroyed || this.handle) return;
      this.handle = createYamlEditor(this.host().nativeElement, text, this.label(), () => this.edited.emit());
      this.ready.set(true);
    });
  }

  /** The text as edited now ('' until the editor is there). */
  value(): string {
    return this.handle?.text() ?? '';
  }

  showCauses(causes: readonly { readonly field?: string; readonly message?: string }[]): FieldLine[] {
    return this.handle?.showCauses(causes) ?? [];
  }
}
