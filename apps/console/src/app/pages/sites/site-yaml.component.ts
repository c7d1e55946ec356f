import { ChangeDetectionStrategy, Component, inject, input, signal, viewChild, type OnInit } from '@angular/core';
import { ApiService } from '../../core/api.service';
import { AuthService } from '../../core/auth.service';
import { ErrorBoxComponent } from '../../shared/error-box.component';
import { YamlEditorComponent, type FieldLine } from '../../shared/yaml-editor.component';
import { ActionState } from './action-state';
import type { Site } from './site-types';

/**
 * The site as YAML (what `kubectl edit` shows, without status): Validate is a server-side dry run
 * of the PUT, Save the PUT itself; the resourceVersion in the text makes a stale save a 409. The
 * Status causes show on their fields in the editor and in a list under it.
 */
@Component({
  selector: 'pl-site-yaml',
  changeDetection: ChangeDetectionStrategy.OnPush,
  imports: [ErrorBoxComponent, YamlEditorComponent],
  template: `
    <h2>YAML</h2>
    @if (text(); as t) { <pl-yaml-editor [text]="t" label="The site's YAML" (edited)="result.set(undefined)" /> }
    <div class="buttons">
      <button type="button" (click)="reload()">Reload</button>
      @if (auth.canMutate()) {
        <button type="button" (click)="send(true)" [disabled]="state.busy()" data-testid="yaml-validate">Validate</button>
        <button type="button" (click)="send(false)" [disabled]="state.busy()" data-testid="yaml-save">Save</button>
      }
      @if (result(); as r) { <span role="status" data-testid="yaml-result">{{ r }}</span> }
    </div>
    <pl-error-box [error]="state.error()" />
    @if (lines().length > 0) {
      <ul class="causes" data-testid="yaml-causes">
        @for (l of lines(); track $index) { <li [attr.data-field]="l.field" [attr.data-line]="l.line">Line {{ l.line }}: <code>{{ l.field }}</code> {{ l.message }}</li> }
      </ul>
    }
  `,
  styles: `.buttons { display: flex; gap: .5rem; align-items: center; margin: .5rem 0; } .causes { color: #912018; }`,
})
export class SiteYamlComponent implements OnInit {
  readonly site = input.required<Site>();
  protected readonly auth = inject(AuthService);
  private readonly api = inject(ApiService);
  private readonly editor = viewChild(YamlEditorComponent);
  protected readonly state = new ActionState();
  protected readonly text = signal<string | undefined>(undefined);
  protected readonly lines = signal<readonly FieldLine[]>([]);
  protected readonly result = signal<string | undefined>(undefined);

  /** The site the text was made from: its resourceVersion is the one in the text. */
  private loaded: Site | undefined;

  ngOnInit(): void {
    void this.reload();
  }

  /** The site as it is now (the live one), replacing what was typed. */
  protected async reload(): Promise<void> {
    this.loaded = this.site();
    this.text.set(await asYaml(this.site()));
    this.lines.set([]);
    this.editor()?.showCauses([]);
  }

  protected async send(dryRun: boolean): Promise<void> {
    const editor = this.editor();
    if (!editor) return;
    const text = await this.current(editor.value());
    const answer = await this.state.run(() => this.api.replace<Site>('sites', this.site().metadata.name, text, { dryRun, yaml: true }));
    this.lines.set(editor.showCauses(this.state.error()?.causes ?? []));
    if (!answer) {
      this.result.set(undefined);
      return;
    }
    this.result.set(dryRun ? 'Valid: the API accepts it (nothing was written).' : `Saved: generation ${answer.metadata.generation ?? '?'}.`);
    if (!dryRun) {
      this.loaded = answer;
      this.text.set(await asYaml(answer));
    }
  }

  /**
   * The text with the live site's resourceVersion when only its status moved on since the text
   * was made (the node reports all the time): the version guards against someone else's change of
   * spec, labels or annotations, which still makes the save a 409.
   */
  private async current(text: string): Promise<string> {
    const loaded = this.loaded;
    const live = this.site();
    const { parseDocument } = await import('yaml');
    const doc = parseDocument(text);
    const same = (a: Site, b: Site) => JSON.stringify([a.spec, a.metadata.labels, a.metadata.annotations]) === JSON.stringify([b.spec, b.metadata.labels, b.metadata.annotations]);
    if (!loaded || !same(loaded, live) || doc.getIn(['metadata', 'resourceVersion']) !== loaded.metadata.resourceVersion) return text;
    doc.setIn(['metadata', 'resourceVersion'], live.metadata.resourceVersion);
    return doc.toString();
  }
}

/** What is edited: the object without status and server-set metadata (the resourceVersion stays: it guards the save). */
async function asYaml(site: Site): Promise<string> {
  const { stringify } = await import('yaml');
  const { name, labels, annotations, resourceVersion } = site.metadata;
  return stringify({ apiVersion: site.apiVersion, kind: site.kind, metadata: { name, ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}), resourceVersion }, spec: site.spec });
}
