import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import type { Condition } from '../core/types';

/** Conditions at a glance: one chip per condition (green when it is as it should be, red when not, grey Unknown), the reason and message on hover and for screen readers. */
@Component({
  selector: 'pl-conditions',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @for (c of conditions(); track c.type) {
      <span class="chip" [class]="tone(c)" [attr.title]="(c.reason ?? '') + (c.message ? ': ' + c.message : '')" [attr.data-condition]="c.type">
        {{ c.type }}<span class="sr-only">: {{ c.status }} {{ c.reason }}</span>
      </span>
    }
  `,
  styles: `.chip { display: inline-block; font-size: .75rem; padding: .05rem .4rem; border-radius: 999px; margin-right: .25rem; border: 1px solid; } .good { color: #05603a; border-color: #05603a; background: #ecfdf3; } .bad { color: #912018; border-color: #912018; background: #fef3f2; } .unknown { color: #344054; border-color: #667085; background: #f2f4f7; } .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }`,
})
export class ConditionsComponent {
  readonly conditions = input<readonly Condition[]>([]);

  /** good, bad or unknown: Drifted and Stalled are bad when True, every other condition when False. */
  protected tone(c: Condition): string {
    if (c.status === 'Unknown') return 'chip unknown';
    const bad = NEGATIVE.has(c.type) ? c.status === 'True' : c.status === 'False';
    return bad ? 'chip bad' : 'chip good';
  }
}

const NEGATIVE = new Set(['Drifted', 'Stalled', 'Reconciling', 'ProvisioningUnavailable']);
