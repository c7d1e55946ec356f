import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import type { ApiError } from '../core/api-error';

/** An API error as the API said it: the Status message, its reason, and each field it named. */
@Component({
  selector: 'pl-error-box',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (error(); as e) {
      <div class="error" role="alert" data-testid="error">
        <strong>{{ e.reason }}</strong> {{ e.message }}
        @if (e.causes.length > 0) {
          <ul>
            @for (cause of e.causes; track $index) {
              <li><code>{{ cause.field }}</code>: {{ cause.message }}</li>
            }
          </ul>
        }
      </div>
    }
  `,
  styles: `.error { border: 1px solid #b42318; background: #fef3f2; color: #7a271a; padding: .5rem .75rem; border-radius: 4px; margin: .5rem 0; } ul { margin: .25rem 0 0; padding-left: 1.25rem; }`,
})
export class ErrorBoxComponent {
  readonly error = input<ApiError | undefined>();
}
