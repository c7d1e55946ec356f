import { ChangeDetectionStrategy, Component, input, signal } from '@angular/core';

/** Copies `text` to the clipboard and says so where a screen reader hears it (or why it could not). */
@Component({
  selector: 'pl-copy-button',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <button type="button" data-testid="copy-button" (click)="copy()">{{ label() }}</button>
    <span class="said" role="status" data-testid="copy-status">{{ said() }}</span>
  `,
  styles: `.said { margin-left: .5rem; font-size: .85rem; color: #05603a; }`,
})
export class CopyButtonComponent {
  readonly text = input.required<string>();
  readonly label = input('Copy');
  protected readonly said = signal('');

  protected async copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.text());
      this.said.set('Copied to the clipboard.');
    } catch {
      this.said.set('The browser refused the clipboard: select the text and copy it by hand.');
    }
  }
}
