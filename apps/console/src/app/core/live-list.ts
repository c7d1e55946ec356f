import { DestroyRef, inject, Injectable, signal, type Signal } from '@angular/core';
import { ApiError } from './api-error';
import { ApiService, queryString, V1 } from './api.service';
import { AuthService } from './auth.service';
import type { AnyObject, ApiObject, Plural, WatchEvent } from './types';

export interface LiveList<T extends AnyObject = ApiObject> {
  /** The objects, in the API's list order, kept current by the watch stream. */
  readonly items: Signal<readonly T[]>;
  /** False until the first list arrived. */
  readonly loaded: Signal<boolean>;
  readonly error: Signal<ApiError | undefined>;
  stop(): void;
}

/**
 * A list kept live by the API's watch stream (no polling): GET the list, then
 * GET ?watch=true&resourceVersion=<the list's> and apply each ADDED/MODIFIED/DELETED line; when the
 * stream ends it resumes from the last version seen (a BOOKMARK moves it too); an ERROR 410 Expired
 * lists again. Stops with the component that asked for it (DestroyRef).
 */
@Injectable({ providedIn: 'root' })
export class LiveLists {
  private readonly api = inject(ApiService);
  private readonly auth = inject(AuthService);

  open<T extends AnyObject = ApiObject>(plural: Plural, query: Readonly<Record<string, string>> = {}, destroyRef: DestroyRef = inject(DestroyRef)): LiveList<T> {
    const items = signal<readonly T[]>([]);
    const loaded = signal(false);
    const error = signal<ApiError | undefined>(undefined);
    const controller = new AbortController();
    const byName = new Map<string, T>();
    const publish = () => items.set([...byName.values()]);
    let stopped = false;

    const run = async () => {
      let version: string | undefined;
      while (!stopped) {
        try {
          if (version === undefined) {
            const list = await this.api.list<T>(plural, query);
            byName.clear();
            for (const item of list.items) byName.set(item.metadata.name, item);
            publish();
            loaded.set(true);
            error.set(undefined);
            version = list.metadata.resourceVersion;
          }
          version = await this.follow<T>(plural, query, version, controller.signal, (event) => {
            if (event.type === 'ADDED' || event.type === 'MODIFIED') byName.set(event.object.metadata.name, event.object);
            else if (event.type === 'DELETED') byName.delete(event.object.metadata.name);
            if (event.type !== 'BOOKMARK') publish();
          });
        } catch (caught) {
          if (stopped) return;
          if (caught instanceof ApiError && caught.code === 410) version = undefined;
          else error.set(caught instanceof ApiError ? caught : new ApiError(0, 'Unreachable', String(caught)));
          if (caught instanceof ApiError && caught.code === 401) return;
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      }
    };
    void run();
    const stop = () => {
      stopped = true;
      controller.abort();
    };
    destroyRef.onDestroy(stop);
    return { items, loaded, error, stop };
  }

  /** Reads one watch stream to its end; resolves with the last resourceVersion seen. */
  private async follow<T extends AnyObject>(plural: Plural, query: Readonly<Record<string, string>>, from: string, signal: AbortSignal, apply: (event: WatchEvent<T>) => void): Promise<string> {
    const token = this.auth.token();
    const response = await fetch(`${V1}/${plural}${queryString({ ...query, watch: 'true', resourceVersion: from, allowWatchBookmarks: 'true' })}`, {
      headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal,
    });
    if (!response.ok || !response.body) throw ApiError.fromStatus(response.status, await response.json().catch(() => undefined));
    let version = from;
    let buffer = '';
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return version;
      buffer += value;
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
        if (line === '') continue;
        const event = JSON.parse(line) as WatchEvent<T>;
        if (event.type === 'ERROR') throw ApiError.fromStatus(410, event.object);
        version = event.object.metadata.resourceVersion ?? version;
        apply(event);
      }
    }
  }
}
