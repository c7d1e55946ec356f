import { ChangeDetectionStrategy, Component, computed, input, output, signal } from '@angular/core';

/**
 * A destructive action's confirmation: the user types the object's name; only then the button
 * is enabled. Rendered inline as a dialog (role=alertdialog), Escape cancels.
 */
@Component({
  selector: 'pl-confirm-name',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="confirm" role="alertdialog" aria-modal="true" [attr.aria-labelledby]="'confirm-title'" (keydown.escape)="cancelled.emit()" data-testid="confirm">
      <h3 id="confirm-title">{{ title() }}</h3>
      <p>{{ consequence() }}</p>
      <label>Type <code>{{ name() }}</code> to confirm
        <input data-testid="confirm-input" [value]="typed()" (input)="typed.set($any($event.target).value)" autocomplete="off" autofocus />
      </label>
      <div class="buttons">
        <button type="button" (click)="cancelled.emit()">Cancel</button>
        <button type="button" class="danger" data-testid="confirm-button" [disabled]="!matches()" (click)="confirmed.emit()">{{ action() }}</button>
      </div>
    </div>
  `,
  styles: `.confirm { border: 2px solid #b42318; background: #fff; padding: 1rem; border-radius: 6px; margin: .75rem 0; } .buttons { display: flex; gap: .5rem; margin-top: .75rem; } .danger { background: #b42318; color: #fff; border: none; padding: .35rem .8rem; border-radius: 4px; } .danger:disabled { background: #d0a29c; } label { display: flex; flex-direction: column; gap: .25rem; }`,
})
export class ConfirmNameComponent {
  readonly name = input.required<string>();
  readonly title = input('Are you sure?');
  readonly consequence = input('');
  readonly action = input('Confirm');
  readonly confirmed = output<void>();
  readonly cancelled = output<void>();
  protected readonly typed = signal('');
  protected readonly matches = computed(() => this.typed() === this.name());
}
