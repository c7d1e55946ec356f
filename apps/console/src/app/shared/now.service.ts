import { Injectable, signal } from '@angular/core';

/**
 * The time ages are measured against, moved on every few seconds: a local clock for "3m20s ago",
 * not a poll of the API (the objects themselves come only from watch streams).
 */
@Injectable({ providedIn: 'root' })
export class NowService {
  private readonly value = signal(new Date());
  readonly now = this.value.asReadonly();

  constructor() {
    setInterval(() => this.value.set(new Date()), 5000);
  }
}
