import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, input, signal, type OnInit } from '@angular/core';
import { LiveLists, type LiveList } from '../../core/live-list';
import { AgePipe } from '../../shared/age.pipe';
import { followClock } from '../../shared/clock';
import type { SiteEvent } from './site-types';

/** The site's events, live and newest first: type, reason, message, when last, how often. */
@Component({
  selector: 'pl-site-events',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [AgePipe],
  template: `
    <h2>Events</h2>
    <ol class="timeline">
      @for (e of events(); track e.metadata.name) {
        <li data-testid="event-row" [attr.data-reason]="e.reason" [class.warning]="e.type === 'Warning'">
          <span class="when">{{ e.lastTimestamp | age: clock.now() }} ago</span>
          <span class="type">{{ e.type }}</span>
          <strong>{{ e.reason }}</strong>
          <span>{{ e.message }}</span>
          @if ((e.count ?? 1) > 1) { <span class="count">×{{ e.count }}</span> }
        </li>
      } @empty { <li>No events.</li> }
    </ol>
  `,
  styles: `.timeline { list-style: none; padding: 0; } .timeline li { display: flex; gap: .6rem; padding: .25rem 0; border-bottom: 1px solid #eaecf0; } .when { min-width: 5rem; color: #475467; } .type { min-width: 4.5rem; } .warning .type { color: #912018; font-weight: 600; } .count { color: #475467; }`,
})
export class SiteEventsComponent implements OnInit {
  readonly site = input.required<string>();
  protected readonly clock = followClock();
  private readonly lists = inject(LiveLists);
  private readonly destroyRef = inject(DestroyRef);
  private readonly live = signal<LiveList<SiteEvent> | undefined>(undefined);
  protected readonly events = computed(() => [...(this.live()?.items() ?? [])].sort((a, b) => (b.lastTimestamp ?? '').localeCompare(a.lastTimestamp ?? '')));

  // The input is there from ngOnInit on (the page makes a new panel per site).
  ngOnInit(): void {
    this.live.set(this.lists.open<SiteEvent>('events', { involvedObject: `sites/${this.site()}` }, this.destroyRef));
  }
}

