import { ChangeDetectionStrategy, Component, computed, inject, input, Injector, effect, signal, DestroyRef, type Signal } from '@angular/core';
import { LiveLists, type LiveList } from '../core/live-list';
import type { ApiObject } from '../core/types';

interface CommandStatus {
  readonly state?: string;
  readonly log?: readonly string[];
  readonly message?: string;
  readonly reason?: string;
  readonly progress?: { readonly step?: string; readonly percent?: number };
}
type Command = ApiObject<Record<string, unknown>, CommandStatus>;

/**
 * One command, live (its own watch): state, the step and percent it is at as a progress bar, and
 * its log lines as the agent streams them.
 */
@Component({
  selector: 'pl-command-progress',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @if (command(); as c) {
      <section class="command" data-testid="command-progress" [attr.data-state]="c.status?.state">
        <header>
          <code>{{ c.metadata.name }}</code> <strong data-testid="command-state">{{ c.status?.state ?? 'PENDING' }}</strong>
          @if (c.status?.progress?.step) { <span>{{ c.status?.progress?.step }}</span> }
        </header>
        <progress max="100" [value]="percent()" [attr.aria-label]="'progress of ' + c.metadata.name">{{ percent() }}%</progress>
        @if (c.status?.message) { <p class="message" [class.failed]="c.status?.reason">@if (c.status?.reason) { {{ c.status?.reason }}: }{{ c.status?.message }}</p> }
        <pre class="log" data-testid="command-log" aria-live="polite">@for (line of c.status?.log ?? []; track $index) {{{ line }}
}</pre>
      </section>
    } @else {
      <p>Waiting for command {{ name() }}…</p>
    }
  `,
  styles: `.command { border: 1px solid #d0d5dd; border-radius: 6px; padding: .5rem .75rem; margin: .5rem 0; background: #fff; } progress { width: 100%; } .log { max-height: 18rem; overflow: auto; background: #101828; color: #f2f4f7; padding: .5rem; font-size: .8rem; white-space: pre-wrap; } .message.failed { color: #912018; } header { display: flex; gap: .5rem; align-items: baseline; }`,
})
export class CommandProgressComponent {
  readonly name = input.required<string>();
  private readonly lists = inject(LiveLists);
  private readonly injector = inject(Injector);
  private readonly destroyRef = inject(DestroyRef);
  private readonly live = signal<LiveList<Command> | undefined>(undefined);
  protected readonly command: Signal<Command | undefined> = computed(() => this.live()?.items()[0]);
  protected readonly percent = computed(() => {
    const status = this.command()?.status;
    if (status?.state === 'SUCCEEDED') return 100;
    return status?.progress?.percent ?? 0;
  });

  constructor() {
    effect(
      (cleanup) => {
        const list = this.lists.open<Command>('commands', { fieldSelector: `metadata.name=${this.name()}` }, this.destroyRef);
        this.live.set(list);
        cleanup(() => list.stop());
      },
      { injector: this.injector },
    );
  }
}
