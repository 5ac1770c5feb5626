/**
 * Wakes a worker as soon as work was queued, instead of at its next poll. Whoever queues work calls `notify`; the
 * worker, built later from the same parts, `listen`s. Nothing is lost when nobody listens yet: workers also poll.
 */
export class Wakeup {
  private readonly listeners: Array<() => void> = [];

  listen(listener: () => void): void {
    this.listeners.push(listener);
  }

  notify(): void {
    for (const listener of this.listeners) listener();
  }
}
