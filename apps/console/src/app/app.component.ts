import { ChangeDetectionStrategy, Component } from '@angular/core';

@Component({
  selector: 'pl-root',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <main>
      <h1>Pressluft console</h1>
      <p>
        This console will list Sites and Nodes from the API at
        <code>/apis/pressluft.io/v1</code>.
      </p>
    </main>
  `,
  styles: `
    main {
      max-width: 48rem;
      margin: 0 auto;
      padding: 2rem 1rem;
    }
  `,
})
export class AppComponent {}
