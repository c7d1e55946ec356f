import { inject, Injectable } from '@angular/core';
import { ApiError } from './api-error';
import { AuthService } from './auth.service';
import type { ApiObject, ListResponse, Plural } from './types';

export const V1 = '/apis/pressluft.io/v1';

export interface WriteOptions {
  /** Server-side validation only (?dryRun=All): the API answers as if it wrote, and writes nothing. */
  readonly dryRun?: boolean;
}

/** Every call the console makes: the tab's bearer token, JSON in and out, a Status turned into an ApiError. */
@Injectable({ providedIn: 'root' })
export class ApiService {
  private readonly auth = inject(AuthService);

  async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = this.auth.token();
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = contentType;
    let response: Response;
    try {
      response = await fetch(path, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
    } catch (error) {
      throw new ApiError(0, 'Unreachable', `The API cannot be reached: ${error instanceof Error ? error.message : String(error)}`);
    }
    const text = await response.text();
    const parsed: unknown = text === '' ? undefined : safeJson(text);
    if (!response.ok) {
      if (response.status === 401) this.auth.signOut();
      throw ApiError.fromStatus(response.status, parsed);
    }
    return parsed as T;
  }

  list<T = ApiObject>(plural: Plural, query: Readonly<Record<string, string>> = {}): Promise<ListResponse<T>> {
    return this.request('GET', `${V1}/${plural}${queryString(query)}`);
  }

  get<T = ApiObject>(plural: Plural, name: string): Promise<T> {
    return this.request('GET', `${V1}/${plural}/${encodeURIComponent(name)}`);
  }

  create<T = ApiObject>(plural: Plural, object: unknown, options: WriteOptions = {}): Promise<T> {
    return this.request('POST', `${V1}/${plural}${dryRun(options)}`, object);
  }

  /** PUT: the whole object (its metadata.resourceVersion makes a stale write a 409). YAML text is sent as YAML. */
  replace<T = ApiObject>(plural: Plural, name: string, object: unknown, options: WriteOptions & { readonly yaml?: boolean } = {}): Promise<T> {
    return this.request('PUT', `${V1}/${plural}/${encodeURIComponent(name)}${dryRun(options)}`, object, options.yaml ? 'application/yaml' : 'application/json');
  }

  patch<T = ApiObject>(plural: Plural, name: string, mergePatch: unknown, options: WriteOptions = {}): Promise<T> {
    return this.request('PATCH', `${V1}/${plural}/${encodeURIComponent(name)}${dryRun(options)}`, mergePatch, 'application/merge-patch+json');
  }

  remove<T = ApiObject>(plural: Plural, name: string): Promise<T> {
    return this.request('DELETE', `${V1}/${plural}/${encodeURIComponent(name)}`);
  }

  /** POST sites/{name}/rollback, check-drift, rotate-credentials; commands/{name}/retry, abandon. */
  action<T = ApiObject>(plural: 'sites' | 'commands', name: string, action: string): Promise<T> {
    return this.request('POST', `${V1}/${plural}/${encodeURIComponent(name)}/${action}`, {});
  }
}

export function queryString(query: Readonly<Record<string, string>>): string {
  const entries = Object.entries(query).filter(([, value]) => value !== '');
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries).toString()}`;
}

function dryRun(options: WriteOptions): string {
  return options.dryRun ? '?dryRun=All' : '';
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
