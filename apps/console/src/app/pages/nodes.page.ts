import { ChangeDetectionStrategy, Component } from '@angular/core';

// Placeholder of the page's route until its helper's work is merged (issue 20).
@Component({
  selector: 'pl-nodes',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `<h1>NodesPage</h1>`,
})
export class NodesPage {}
